// Whisper ASR decoding against transformers 4.44.2's own functions
// (tests/fixtures/whisper_asr/oracle/gen.py): _decode_asr with strides, timestamps
// and languages, _find_longest_common_sequence, chunk_iter, and the
// WhisperTimeStampLogitsProcessor rules.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "pipelines/audio_chunking.h"
#include "pipelines/whisper_asr_decode.h"
#include "templates/speech/whisper_timestamps.h"

using namespace ia;

namespace {

const nlohmann::json& reference() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::string(IA_FIXTURES_DIR) + "/whisper_asr/reference.json");
    EXPECT_TRUE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

WhisperAsrVocab vocab() {
  const auto& v = reference()["vocab"];
  WhisperAsrVocab r;
  r.timestamp_begin = v["notimestamps"].get<int64_t>() + 1;
  std::map<int64_t, std::string> names = {{v["startofprev"], "<|startofprev|>"},
                                          {v["eos"], "<|endoftext|>"},
                                          {v["startoftranscript"], "<|startoftranscript|>"},
                                          {v["translate"], "<|translate|>"},
                                          {v["transcribe"], "<|transcribe|>"},
                                          {v["notimestamps"], "<|notimestamps|>"}};
  for (auto it = v["languages"].begin(); it != v["languages"].end(); ++it)
    names[it.value().get<int64_t>()] = "<|" + it.key() + "|>";
  for (const auto& [id, _] : names) r.special_ids.insert(id);
  r.prompt_id = v["startofprev"].get<int64_t>();
  r.decoder_start = v["startoftranscript"].get<int64_t>();
  r.decode = [names](const std::vector<int64_t>& ids) {
    std::string s;
    for (int64_t id : ids) s += names.count(id) ? names.at(id) : " w" + std::to_string(id);
    return s;
  };
  return r;
}

}  // namespace

TEST(WhisperAsrDecode, MatchesTransformersDecodeAsr) {
  const WhisperAsrVocab v = vocab();
  int n = 0;
  for (const auto& c : reference()["decode_asr"]) {
    std::vector<WhisperWindowTokens> windows;
    for (const auto& w : c["windows"]) {
      WhisperWindowTokens t;
      t.tokens = w["tokens"].get<std::vector<int64_t>>();
      if (w.contains("stride")) {
        t.has_stride = true;
        t.chunk_len = w["stride"][0], t.stride_left = w["stride"][1], t.stride_right = w["stride"][2];
      }
      windows.push_back(t);
    }
    const bool ts = c["return_timestamps"], lang = c["return_language"];
    const WhisperAsrResult r = whisper_decode_asr(v, windows, ts, lang, c["time_precision"].get<double>());
    const std::string where = "case " + std::to_string(n++) + ": " + c.dump().substr(0, 400);
    EXPECT_EQ(r.text, c["text"].get<std::string>()) << where;
    ASSERT_EQ(r.chunks.size(), c["chunks"].size()) << where;
    for (size_t i = 0; i < r.chunks.size(); ++i) {
      const auto& e = c["chunks"][i];
      EXPECT_EQ(r.chunks[i].text, e["text"].get<std::string>()) << where;
      if (ts) {
        for (int k = 0; k < 2; ++k) {
          const std::optional<double>& got = k == 0 ? r.chunks[i].start : r.chunks[i].end;
          if (e["timestamp"][k].is_null()) EXPECT_FALSE(got) << where;
          else {
            ASSERT_TRUE(got) << where;
            EXPECT_DOUBLE_EQ(*got, e["timestamp"][k].get<double>()) << where;
          }
        }
      }
      if (lang) {
        if (e["language"].is_null()) EXPECT_FALSE(r.chunks[i].language) << where;
        else EXPECT_EQ(r.chunks[i].language.value_or("?"), e["language"].get<std::string>()) << where;
      }
    }
  }
  EXPECT_GE(n, 200);
}

TEST(WhisperAsrDecode, MergesOverlapsAsTransformers) {
  for (const auto& c : reference()["merge"])
    EXPECT_EQ(whisper_merge_overlapping(c["sequences"].get<std::vector<std::vector<int64_t>>>()),
              c["merged"].get<std::vector<int64_t>>())
        << c.dump();
}

TEST(WhisperAsrDecode, ChunksAudioAsChunkIter) {
  for (const auto& c : reference()["chunk_iter"]) {
    const AudioChunking ch{c["chunk_len"], c["stride_left"], c["stride_right"]};
    std::vector<std::vector<int64_t>> got;
    for (const auto& w : audio_windows(c["num_samples"], ch)) got.push_back({w.end - w.start, w.stride_left, w.stride_right});
    EXPECT_EQ(got, c["strides"].get<std::vector<std::vector<int64_t>>>()) << c.dump();
  }
  // Seconds to samples and the stride check.
  const AudioChunking c = audio_chunking(30, 5, 5, 16000);
  EXPECT_EQ(c.chunk_len, 480000);
  EXPECT_EQ(c.stride_left, 80000);
  EXPECT_EQ(audio_chunking(1.0, 0.25, 0.25, 16000, 320).chunk_len, 16000);
  EXPECT_THROW(audio_chunking(10, 5, 5, 16000), Error);
  EXPECT_THROW(audio_chunking(0, 0, 0, 16000), Error);
  EXPECT_THROW(audio_chunking(NAN, 1, 1, 16000), Error);
  EXPECT_THROW(audio_chunking(10, -1, 1, 16000), Error);
}

TEST(WhisperAsrDecode, TimestampRulesMatchTransformersProcessor) {
  const auto& v = reference()["vocab"];
  const int64_t V = v["vocab_size"];
  int n = 0;
  for (const auto& c : reference()["timestamp_processor"]) {
    WhisperTimestampRules rules;
    rules.no_timestamps_id = v["notimestamps"];
    rules.eos_id = v["eos"];
    rules.begin_index = c["begin_index"];
    if (!c["max_initial_timestamp_index"].is_null()) rules.max_initial_timestamp_index = c["max_initial_timestamp_index"];
    std::vector<float> scores;
    for (int64_t s : c["scores"].get<std::vector<int64_t>>()) scores.push_back(float(s) / 64.0f);
    const std::vector<float> before = scores;
    const auto ids = c["ids"].get<std::vector<int64_t>>();
    rules.apply(scores.data(), V, ids.data(), int64_t(ids.size()));
    std::vector<int64_t> masked;
    for (int64_t j = 0; j < V; ++j) {
      if (std::isinf(scores[size_t(j)])) masked.push_back(j);
      else EXPECT_EQ(scores[size_t(j)], before[size_t(j)]) << "case " << n << " token " << j;
    }
    EXPECT_EQ(masked, c["masked"].get<std::vector<int64_t>>()) << "case " << n << ": " << c["ids"].dump();
    ++n;
  }
  EXPECT_GE(n, 100);
}
