// The audio pipeline end to end from WAV files on disk: JSON shape, Whisper
// transcription (incl. audio longer than one window), wav2vec2 CTC decoding,
// audio classification, and clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "formats/safetensors.h"
#include "pipelines/audio_pipeline.h"
#include "preprocess/audio.h"
#include "preprocess/audio_feature_extractor.h"
#include "speech_test_util.h"
#include "pipelines/audio_chunking.h"
#include "pipelines/whisper_asr_decode.h"
#include "templates/speech/whisper_model.h"
#include "tokenizers/tokenizer.h"

using namespace ia;
using namespace speech_test;

namespace {

void write_wav(const fs::path& p, int rate, int channels, int64_t frames, double freq) {
  std::ofstream f(p, std::ios::binary);
  auto u32 = [&](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  const uint32_t data = uint32_t(frames * channels * 2);
  f.write("RIFF", 4);
  u32(36 + data);
  f.write("WAVEfmt ", 8);
  u32(16);
  u16(1);
  u16(uint16_t(channels));
  u32(uint32_t(rate));
  u32(uint32_t(rate * channels * 2));
  u16(uint16_t(channels * 2));
  u16(16);
  f.write("data", 4);
  u32(data);
  for (int64_t i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c) {
      const double t = double(i) / rate;
      u16(uint16_t(int16_t(12000 * std::sin(2 * M_PI * freq * t * (1 + 0.3 * c)) + 3000 * std::sin(0.7 * double(i)))));
    }
}

ScratchDir whisper_dir() {
  return scratch_copy(fixture("whisper/WhisperForConditionalGeneration"), "wpipe", [](nlohmann::json&) {});
}

void add_whisper_files(const std::string& dir) {
  // 1 s windows of 32 frames (hop 500) with 16 mel bins: the fixture's encoder geometry.
  std::ofstream(fs::path(dir) / "preprocessor_config.json")
      << R"({"feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 16, "sampling_rate": 16000,
             "hop_length": 500, "n_fft": 1000, "chunk_length": 1, "padding_value": 0.0})";
  nlohmann::json vocab = nlohmann::json::object();
  for (int i = 0; i < 50; ++i) vocab["w" + std::to_string(i)] = i;
  nlohmann::json added = nlohmann::json::array();
  const char* specials[] = {"<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|fr|>", "<|translate|>",
                            "<|transcribe|>", "<|notimestamps|>"};
  for (int i = 50; i < 64; ++i) {
    std::string content = i < 57 ? specials[i - 50] : "<|" + std::to_string(i - 57) + ".00|>";
    vocab[content] = i;
    added.push_back({{"id", i}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", true}});
  }
  nlohmann::json tok = {{"version", "1.0"},        {"truncation", nullptr}, {"padding", nullptr},
                        {"added_tokens", added},   {"normalizer", nullptr}, {"pre_tokenizer", {{"type", "Whitespace"}}},
                        {"post_processor", nullptr}, {"decoder", nullptr},
                        {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "w0"}}}};
  std::ofstream(fs::path(dir) / "tokenizer.json") << tok.dump();
}

void add_ctc_files(const std::string& dir) {
  std::ofstream(fs::path(dir) / "preprocessor_config.json")
      << R"({"feature_extractor_type": "Wav2Vec2FeatureExtractor", "feature_size": 1, "sampling_rate": 16000,
             "do_normalize": true, "return_attention_mask": false, "padding_value": 0.0})";
  nlohmann::json vocab = {{"<pad>", 0}, {"<s>", 1}, {"</s>", 2}, {"<unk>", 3}, {"|", 4}};
  for (int i = 5; i < 32; ++i) vocab[std::string(1, char('A' + i - 5))] = i;
  std::ofstream(fs::path(dir) / "vocab.json") << vocab.dump();
  std::ofstream(fs::path(dir) / "tokenizer_config.json")
      << R"({"pad_token": "<pad>", "word_delimiter_token": "|", "do_lower_case": false})";
}

}  // namespace

TEST(AudioPipeline, WhisperTranscribesWavFiles) {
  const ScratchDir dir_scratch = whisper_dir();
  const std::string dir = dir_scratch.str();
  add_whisper_files(dir);
  const fs::path wav = fs::path(dir) / "clip.wav", longer = fs::path(dir) / "long.wav";
  write_wav(wav, 16000, 1, 12000, 440.0);
  write_wav(longer, 16000, 1, 40000, 300.0);  // 2.5 windows of 1 s

  AudioRequest req;
  req.inputs = {wav.string(), longer.string()};
  req.language = {"fr"};
  req.max_new_tokens = 4;
  auto r = AudioPipeline(dir).run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  ASSERT_EQ(r["transcription"]["all_texts"].size(), 2u);
  EXPECT_EQ(r["transcription"]["text"], r["transcription"]["all_texts"][0]);
  EXPECT_EQ(r["device"], "cpu");

  // The same text from the parts: features -> generate(language='fr') -> decode without specials.
  auto fe = AudioFeatureExtractor::from_dir(dir);
  auto model = load_model(dir);
  Tokenizer tok = Tokenizer::from_dir(dir);
  GenerateOptions o;
  o.language = {"fr"};
  o.max_new_tokens = 4;
  auto text_of = [&](const Audio& a) {
    auto seq = model->generate({{"input_features", fe.extract(a).at("input_features")}}, o).at("sequences");
    EXPECT_EQ(seq.i64()[1], 53);  // <|fr|>
    std::vector<uint32_t> ids;
    for (int64_t t = 0; t < seq.dim(1); ++t) ids.push_back(uint32_t(seq.i64()[t]));
    return tok.decode(ids, true);
  };
  EXPECT_EQ(r["transcription"]["all_texts"][0], text_of(decode_wav_file(wav.string())));
  // Longer than the 1 s window: overlapping 1 s windows with 1/6 s strides, each
  // transcribed, merged at their longest common token run (the transformers
  // pipeline's chunk_length_s = window).
  Audio whole = decode_wav_file(longer.string());
  const auto windows = audio_windows(whole.frames, audio_chunking(1.0, 1.0 / 6, 1.0 / 6, 16000));
  ASSERT_EQ(windows.size(), 4u);  // step 16000 - 2 * 2667 = 10666 samples
  EXPECT_EQ(windows[1].start, 10666);
  std::vector<WhisperWindowTokens> parts;
  std::vector<std::string> window_texts;
  for (const auto& win : windows) {
    Audio w;
    w.sample_rate = 16000;
    w.channels = 1;
    w.frames = win.end - win.start;
    w.samples.assign(whole.samples.begin() + win.start, whole.samples.begin() + win.end);
    auto seq = model->generate({{"input_features", fe.extract(w).at("input_features")}}, o).at("sequences");
    parts.push_back({std::vector<int64_t>(seq.i64(), seq.i64() + seq.dim(1)), true, w.frames / 16000.0,
                     win.stride_left / 16000.0, win.stride_right / 16000.0});
    window_texts.push_back(text_of(w));
  }
  WhisperAsrVocab vocab;
  vocab.timestamp_begin = 57;
  for (int64_t id = 50; id < 57; ++id) vocab.special_ids.insert(id);
  vocab.decode = [&](const std::vector<int64_t>& ids) {
    return tok.decode(std::vector<uint32_t>(ids.begin(), ids.end()), false);
  };
  const std::string merged = whisper_decode_asr(vocab, parts, false, false, 1.0 / 16).text;
  EXPECT_EQ(r["transcription"]["all_texts"][1], merged);
  // The merge drops the overlap's repeats: shorter than the windows' texts joined.
  std::string joined;
  for (const auto& t : window_texts) joined += t;
  EXPECT_LT(merged.size(), joined.size());

  // Timestamps: the prompt loses <|notimestamps|>, the first new token is a timestamp,
  // and the pipeline reports segments with start/end times.
  WhisperDecodeOptions with_ts;
  with_ts.return_timestamps = true;
  auto* whisper = dynamic_cast<WhisperModel*>(model.get());
  ASSERT_NE(whisper, nullptr);
  auto ts_seq = whisper->generate({{"input_features", fe.extract(decode_wav_file(wav.string())).at("input_features")}},
                                  o, with_ts).at("sequences");
  ASSERT_GE(ts_seq.dim(1), 4);
  EXPECT_EQ(ts_seq.i64()[2], 55);   // <|transcribe|>, then no <|notimestamps|>
  EXPECT_GE(ts_seq.i64()[3], 57);   // a timestamp opens the transcript
  AudioRequest tr = req;
  tr.return_timestamps = true;
  tr.return_language = true;
  auto rt = AudioPipeline(dir).run(tr);
  ASSERT_TRUE(rt["success"].get<bool>()) << rt.dump();
  ASSERT_TRUE(rt["transcription"].contains("chunks")) << rt.dump();
  ASSERT_EQ(rt["transcription"]["all_chunks"].size(), 2u);
  for (const auto& c : rt["transcription"]["chunks"]) {
    ASSERT_TRUE(c["timestamp"].is_array() && c["timestamp"].size() == 2) << c.dump();
    EXPECT_TRUE(c["timestamp"][0].is_number()) << c.dump();
    EXPECT_EQ(c["language"], "french");
  }
  AudioRequest unchunked = req;
  unchunked.chunk_length_s = 0;
  auto ru = AudioPipeline(dir).run(unchunked);
  EXPECT_FALSE(ru["success"].get<bool>());  // 2.5 s does not fit Whisper's 1 s window
  EXPECT_NE(ru["error"].get<std::string>().find("chunks"), std::string::npos) << ru.dump();

  // Stereo at 8 kHz is down-mixed and resampled rather than rejected.
  const fs::path stereo = fs::path(dir) / "stereo.wav";
  write_wav(stereo, 8000, 2, 6000, 200.0);
  req.inputs = {stereo.string()};
  auto s = AudioPipeline(dir).run(req);
  EXPECT_TRUE(s["success"].get<bool>()) << s.dump();
}

TEST(AudioPipeline, Wav2Vec2CtcDecoding) {
  const ScratchDir dir_scratch = scratch_copy(fixture("wav2vec2/Wav2Vec2ForCTC"), "ctc", [](nlohmann::json&) {});
  const std::string dir = dir_scratch.str();
  add_ctc_files(dir);
  CtcDecoder d = CtcDecoder::from_dir(dir, 32);
  EXPECT_EQ(d.decode({5, 5, 0, 5, 4, 6, 6, 0, 4, 4}), "AA B");
  EXPECT_EQ(d.decode({0, 0, 0}), "");
  EXPECT_THROW(d.decode({40}), Error);

  const fs::path wav = fs::path(dir) / "clip.wav";
  write_wav(wav, 16000, 1, 4000, 523.0);
  AudioRequest req;
  req.inputs = {wav.string()};
  auto r = AudioPipeline(dir).run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  auto fe = AudioFeatureExtractor::from_dir(dir);
  auto out = load_model(dir)->forward(fe.extract(decode_wav_file(wav.string())));
  const Tensor& ids = out.at("greedy_ctc_ids");
  EXPECT_EQ(r["transcription"]["text"], d.decode(std::vector<int64_t>(ids.i64(), ids.i64() + ids.numel())));
  EXPECT_FALSE(r["transcription"]["text"].get<std::string>().empty());
}

TEST(AudioPipeline, AudioClassification) {
  const ScratchDir dir_scratch = scratch_copy(fixture("wav2vec2/Wav2Vec2ForCTC"), "cls", [](nlohmann::json& c) {
    c["architectures"] = {"Wav2Vec2ForSequenceClassification"};
    c["classifier_proj_size"] = 8;
    c["id2label"] = {{"0", "yes"}, {"1", "no"}, {"2", "maybe"}};
  });
  const std::string dir = dir_scratch.str();
  add_ctc_files(dir);
  {
    auto st = SafetensorsFile::open((fs::path(dir) / "model.safetensors").string());
    std::vector<std::pair<std::string, Tensor>> ts;
    for (const auto& [name, _] : st->tensors())
      if (name.rfind("lm_head", 0) != 0) ts.emplace_back(name, st->tensor(name).clone());
    auto filled = [](Shape s, float k) {
      Tensor t = Tensor::f32(s);
      for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = float(std::sin(k * double(i + 1)));
      return t;
    };
    ts.emplace_back("projector.weight", filled({8, 32}, 0.7f));
    ts.emplace_back("projector.bias", filled({8}, 0.3f));
    ts.emplace_back("classifier.weight", filled({3, 8}, 1.1f));
    ts.emplace_back("classifier.bias", filled({3}, 0.5f));
    st.reset();
    write_safetensors((fs::path(dir) / "model.safetensors").string(), ts);
  }
  const fs::path wav = fs::path(dir) / "clip.wav";
  write_wav(wav, 16000, 1, 4000, 330.0);
  AudioRequest req;
  req.inputs = {wav.string()};
  req.top_k = 2;
  auto r = AudioPipeline(dir).run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  const auto& c = r["classification"];
  ASSERT_EQ(c["results"].size(), 2u);
  EXPECT_EQ(c["top_label"], c["results"][0]["label"]);
  EXPECT_GE(c["results"][0]["score"].get<double>(), c["results"][1]["score"].get<double>());
  // Scores are the softmax of the model's logits.
  auto fe = AudioFeatureExtractor::from_dir(dir);
  auto logits = load_model(dir)->forward(fe.extract(decode_wav_file(wav.string()))).at("logits");
  double z = 0, mx = -1e30;
  for (int i = 0; i < 3; ++i) mx = std::max(mx, double(logits.f32()[i]));
  for (int i = 0; i < 3; ++i) z += std::exp(double(logits.f32()[i]) - mx);
  EXPECT_NEAR(c["top_score"].get<double>(), std::exp(mx - mx) / z, 1e-5);
}

TEST(AudioPipeline, ClearErrors) {
  const ScratchDir dir_scratch = whisper_dir();
  const std::string dir = dir_scratch.str();
  add_whisper_files(dir);
  AudioRequest req;
  req.inputs = {(fs::path(dir) / "missing.wav").string()};
  auto r = AudioPipeline(dir).run(req);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("missing.wav"), std::string::npos) << r.dump();
  const fs::path junk = fs::path(dir) / "junk.wav";
  std::ofstream(junk) << "this is not a wav file at all";
  req.inputs = {junk.string()};
  EXPECT_FALSE(AudioPipeline(dir).run(req)["success"].get<bool>());
  req.inputs = {};
  EXPECT_FALSE(AudioPipeline(dir).run(req)["success"].get<bool>());
  req.inputs = {junk.string()};
  req.task = "audio-classification";
  auto t = AudioPipeline(dir).run(req);
  EXPECT_FALSE(t["success"].get<bool>());
  EXPECT_NE(t["error"].get<std::string>().find("not available"), std::string::npos);
  // No preprocessor_config.json: the constructor names what is missing.
  const ScratchDir bare_scratch = whisper_dir();
  const std::string bare = bare_scratch.str();
  fs::remove(fs::path(bare) / "preprocessor_config.json");
  EXPECT_THROW(AudioPipeline{bare}, Error);
  EXPECT_TRUE(AudioPipeline::handles(bare));
  EXPECT_FALSE(AudioPipeline::handles(fixture("bart/BartForConditionalGeneration")));
}

TEST(AudioPipeline, RunCommandDispatchesSpeechModels) {
  const ScratchDir dir_scratch = scratch_copy(fixture("wav2vec2/Wav2Vec2ForCTC"), "cli", [](nlohmann::json&) {});
  const std::string dir = dir_scratch.str();
  add_ctc_files(dir);
  const fs::path wav = fs::path(dir) / "clip.wav", out = fs::path(dir) / "out.json";
  write_wav(wav, 16000, 1, 4000, 523.0);
  const std::string cmd = std::string(IA_CLI_PATH) + " run " + dir + " --task automatic-speech-recognition --input " +
                          wav.string() + " --json > " + out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  nlohmann::json got = read_json(out);
  AudioRequest req;
  req.inputs = {wav.string()};
  EXPECT_EQ(got["transcription"], AudioPipeline(dir).run(req)["transcription"]);
  EXPECT_TRUE(got["success"].get<bool>());
  const std::string bad = std::string(IA_CLI_PATH) + " run " + dir + " --input " + dir + "/none.wav --json > " +
                          out.string();
  EXPECT_NE(std::system(bad.c_str()), 0);
  EXPECT_FALSE(read_json(out)["success"].get<bool>());
}
