// The audio pipeline template (see audio_pipeline.h).
#include "pipelines/audio_pipeline.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "core/error.h"
#include "pipelines/audio_chunking.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/whisper_asr_decode.h"
#include "preprocess/audio.h"
#include "preprocess/audio_feature_extractor.h"
#include "preprocess/resample_audio.h"
#include "templates/speech/wav2vec2_model.h"
#include "templates/speech/whisper_model.h"
#include "tokenizers/tokenizer.h"

namespace ia {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_json_file(const fs::path& p) {
  std::ifstream in(p);
  IA_CHECK(in.good(), p.string(), ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    fail(p.string(), ": malformed JSON: ", e.what());
  }
}

// A special token entry of tokenizer_config.json: "<pad>" or {"content": "<pad>", ...}.
std::optional<std::string> token_text(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (j[key].is_string()) return j[key].get<std::string>();
  if (j[key].is_object() && j[key].contains("content") && j[key]["content"].is_string())
    return j[key]["content"].get<std::string>();
  return std::nullopt;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) s.replace(p, from.size(), to);
}

Audio load_audio(const std::string& input) {
  if (input == "-") {
    std::string bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return decode_wav_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "stdin");
  }
  return decode_wav_file(input);
}

// Mono at the feature extractor's rate (the pipeline's ffmpeg_read does the same for files).
Audio conform(Audio a, int rate) {
  if (a.channels > 1) a = downmix_to_mono(a);
  if (a.sample_rate != rate) a = resample_audio(a, rate);
  return a;
}

}  // namespace

CtcDecoder CtcDecoder::from_dir(const std::string& dir, int64_t vocab_size) {
  CtcDecoder d;
  const fs::path root(dir);
  nlohmann::json cfg = nlohmann::json::object();
  if (fs::exists(root / "tokenizer_config.json")) cfg = read_json_file(root / "tokenizer_config.json");
  if (fs::exists(root / "vocab.json")) {
    const nlohmann::json v = read_json_file(root / "vocab.json");
    IA_CHECK(v.is_object(), (root / "vocab.json").string(), ": expected an object of token -> id");
    for (auto it = v.begin(); it != v.end(); ++it) {
      IA_CHECK(it.value().is_number_integer() && it.value().get<int64_t>() >= 0 && it.value().get<int64_t>() < (1 << 24),
               (root / "vocab.json").string(), ": id of '", it.key(), "' is not a valid token id");
      const size_t id = size_t(it.value().get<int64_t>());
      if (d.vocab_.size() <= id) d.vocab_.resize(id + 1);
      d.vocab_[id] = it.key();
    }
    // Added tokens (ids past vocab.json) from tokenizer_config.json's added_tokens_decoder.
    if (cfg.contains("added_tokens_decoder") && cfg["added_tokens_decoder"].is_object())
      for (auto it = cfg["added_tokens_decoder"].begin(); it != cfg["added_tokens_decoder"].end(); ++it) {
        size_t id = 0;
        try {
          id = size_t(std::stoul(it.key()));
        } catch (const std::exception&) {
          continue;
        }
        if (id >= (1u << 24) || !it.value().contains("content")) continue;
        if (d.vocab_.size() <= id) d.vocab_.resize(id + 1);
        if (d.vocab_[id].empty()) d.vocab_[id] = it.value()["content"].get<std::string>();
      }
  } else if (fs::exists(root / "tokenizer.json")) {
    Tokenizer tok = Tokenizer::from_dir(dir);
    for (int64_t i = 0; i < vocab_size; ++i) d.vocab_.push_back(tok.id_to_token(uint32_t(i)).value_or(""));
  } else {
    fail(dir, ": no vocab.json or tokenizer.json to decode CTC output with");
  }
  if (auto p = token_text(cfg, "pad_token")) d.pad_ = *p;
  if (auto w = token_text(cfg, "word_delimiter_token")) d.delimiter_ = *w;
  d.lower_ = cfg.value("do_lower_case", false);
  if (cfg.contains("clean_up_tokenization_spaces") && cfg["clean_up_tokenization_spaces"].is_boolean())
    d.cleanup_ = cfg["clean_up_tokenization_spaces"].get<bool>();
  return d;
}

std::string CtcDecoder::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0 && ids[i] == ids[i - 1]) continue;  // collapse repeats
    IA_CHECK(ids[i] >= 0 && size_t(ids[i]) < vocab_.size(), "ctc: token id ", ids[i], " is not in the vocabulary (",
             vocab_.size(), " tokens)");
    const std::string& t = vocab_[size_t(ids[i])];
    if (t == pad_) continue;  // CTC blank
    text += t == delimiter_ ? " " : t;
  }
  const size_t b = text.find_first_not_of(" \t\n\r\f\v"), e = text.find_last_not_of(" \t\n\r\f\v");
  text = b == std::string::npos ? std::string() : text.substr(b, e - b + 1);
  if (lower_)
    for (auto& ch : text) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  if (cleanup_) {
    // PreTrainedTokenizerBase.clean_up_tokenization
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{{" .", "."}, {" ?", "?"}, {" !", "!"},
                                                                                   {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
                                                                                   {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"},
                                                                                   {" 're", "'re"}})
      replace_all(text, from, to);
  }
  return text;
}

struct AudioPipeline::Impl {
  std::string dir;
  std::unique_ptr<Model> model;
  AudioFeatureExtractor fe;
  std::optional<Tokenizer> tok;   // Whisper
  std::optional<CtcDecoder> ctc;  // wav2vec2 CTC

  nlohmann::json transcribe_whisper(const AudioRequest& req);
  WhisperAsrVocab asr_vocab(int64_t timestamp_begin);
  nlohmann::json transcribe_ctc(const AudioRequest& req);
  nlohmann::json classify(const AudioRequest& req);
};

AudioPipeline::AudioPipeline(const std::string& dir) : impl_(std::make_unique<Impl>()) {
  impl_->dir = dir;
  impl_->model = load_model(dir);
  IA_CHECK(impl_->model->family() == Family::Speech, dir, ": ", impl_->model->model_type(),
           " is not a speech model (the audio pipeline runs whisper and wav2vec2)");
  impl_->fe = AudioFeatureExtractor::from_dir(dir);
}

AudioPipeline::~AudioPipeline() = default;

bool AudioPipeline::handles(const std::string& dir) {
  try {
    const HFConfig c = HFConfig::load((fs::path(dir) / "config.json").string());
    const std::string t = c.get_string("model_type", "");
    return t == "whisper" || t == "wav2vec2";
  } catch (const std::exception&) {
    return false;
  }
}

nlohmann::json AudioPipeline::Impl::transcribe_whisper(const AudioRequest& req) {
  auto* w = dynamic_cast<WhisperModel*>(model.get());
  IA_CHECK(w != nullptr, dir, ": automatic-speech-recognition needs a Whisper or wav2vec2 CTC model");
  if (!tok) tok = Tokenizer::from_dir(dir);
  const WhisperPromptConfig& pc = w->prompt_config();
  IA_CHECK(pc.no_timestamps_id, dir, ": generation_config.json has no no_timestamps_token_id, which Whisper's "
                                     "transcription decoding needs");
  const WhisperAsrVocab vocab = asr_vocab(*pc.no_timestamps_id + 1);
  const int rate = fe.sampling_rate();
  const double window_s = double(fe.n_samples()) / rate;
  const double time_precision = window_s / double(w->audio_encoder().output_frames());
  IA_CHECK(req.language.size() <= 1 || req.language.size() == req.inputs.size(), "whisper: ", req.language.size(),
           " languages given for ", req.inputs.size(), " inputs (give one, or one per input)");
  IA_CHECK(req.chunk_length_s < 0 || std::isfinite(req.chunk_length_s), "whisper: chunk length must be a number");
  nlohmann::json texts = nlohmann::json::array(), all_chunks = nlohmann::json::array();
  for (size_t i = 0; i < req.inputs.size(); ++i) {
    Audio a = conform(load_audio(req.inputs[i]), rate);
    GenerateOptions o;
    if (!req.language.empty()) o.language = {req.language[req.language.size() == 1 ? 0 : i]};
    o.task = req.whisper_task;
    // Default length as WhisperGenerationMixin sets it: max_length + (prompt - 1), capped
    // by max_target_positions; the prompt length is that of the init tokens.
    const int64_t P = int64_t(whisper_init_tokens(pc, o.language, o.task, 1,
                                                  [&] { return std::vector<int64_t>{pc.decoder_start}; },
                                                  req.return_timestamps)[0].size());
    const int64_t initial = std::min(pc.max_target_positions / 2 - 1, P - 1);
    const int64_t total = std::min(w->generate_config().max_length + initial, pc.max_target_positions);
    o.max_new_tokens = req.max_new_tokens >= 0 ? req.max_new_tokens : std::max<int64_t>(total - P, 0);
    o.return_step_logits = false;
    WhisperDecodeOptions wo;
    wo.return_timestamps = req.return_timestamps;
    auto transcribe = [&](const Audio& clip) {
      TensorMap out = w->generate({{"input_features", fe.extract(clip).at("input_features")}}, o, wo);
      const Tensor& seq = out.at("sequences");
      return std::vector<int64_t>(seq.i64(), seq.i64() + seq.dim(1));
    };
    std::vector<WhisperWindowTokens> windows;
    const double chunk_s = req.chunk_length_s >= 0 ? req.chunk_length_s : (a.frames > fe.n_samples() ? window_s : 0.0);
    if (chunk_s > 0) {
      const double stride_s = req.stride_length_s >= 0 ? req.stride_length_s : chunk_s / 6;
      const AudioChunking ch = audio_chunking(chunk_s, stride_s, stride_s, rate);
      IA_CHECK(ch.chunk_len <= fe.n_samples(), "whisper: chunks of ", chunk_s, " s are longer than the model's ",
               window_s, " s window");
      for (const AudioWindow& win : audio_windows(a.frames, ch)) {
        Audio clip;
        clip.sample_rate = rate;
        clip.channels = 1;
        clip.frames = win.end - win.start;
        clip.samples.assign(a.samples.begin() + win.start, a.samples.begin() + win.end);
        WhisperWindowTokens t;
        t.tokens = transcribe(clip);
        t.has_stride = true;
        t.chunk_len = double(clip.frames) / rate;
        t.stride_left = double(win.stride_left) / rate;
        t.stride_right = double(win.stride_right) / rate;
        windows.push_back(std::move(t));
      }
    } else {
      IA_CHECK(a.frames <= fe.n_samples(), req.inputs[i], ": ", double(a.frames) / rate, " s of audio is longer than "
               "Whisper's ", window_s, " s window: transcribe it in chunks (chunk length > 0)");
      windows.push_back({transcribe(a), false, 0, 0, 0});
    }
    const WhisperAsrResult r =
        whisper_decode_asr(vocab, windows, req.return_timestamps, req.return_language, time_precision);
    texts.push_back(r.text);
    nlohmann::json chunks = nlohmann::json::array();
    for (const auto& c : r.chunks) {
      nlohmann::json j = {{"text", c.text}};
      if (req.return_timestamps)
        j["timestamp"] = {c.start ? nlohmann::json(*c.start) : nlohmann::json(nullptr),
                          c.end ? nlohmann::json(*c.end) : nlohmann::json(nullptr)};
      if (req.return_language) j["language"] = c.language ? nlohmann::json(*c.language) : nlohmann::json(nullptr);
      chunks.push_back(std::move(j));
    }
    all_chunks.push_back(std::move(chunks));
  }
  nlohmann::json result = {{"text", texts[0]}, {"all_texts", texts}};
  if (req.return_timestamps || req.return_language) {
    result["chunks"] = all_chunks[0];
    result["all_chunks"] = all_chunks;
  }
  return success_result("transcription", result);
}

WhisperAsrVocab AudioPipeline::Impl::asr_vocab(int64_t timestamp_begin) {
  WhisperAsrVocab v;
  v.timestamp_begin = timestamp_begin;
  // all_special_ids: the added tokens marked special (timestamps are plain added tokens).
  const nlohmann::json t = read_json_file(fs::path(dir) / "tokenizer.json");
  if (t.contains("added_tokens") && t["added_tokens"].is_array())
    for (const auto& e : t["added_tokens"])
      if (e.is_object() && e.value("special", false) && e.contains("id") && e["id"].is_number_integer() &&
          e["id"].get<int64_t>() < timestamp_begin)
        v.special_ids.insert(e["id"].get<int64_t>());
  if (auto id = tok->token_to_id("<|startofprev|>")) v.prompt_id = int64_t(*id);
  if (auto id = tok->token_to_id("<|startoftranscript|>")) v.decoder_start = int64_t(*id);
  const Tokenizer* tk = &*tok;
  v.decode = [tk](const std::vector<int64_t>& ids) {
    std::vector<uint32_t> u;
    u.reserve(ids.size());
    for (int64_t id : ids) u.push_back(uint32_t(id));
    return tk->decode(u, false);
  };
  return v;
}

nlohmann::json AudioPipeline::Impl::transcribe_ctc(const AudioRequest& req) {
  auto* m = dynamic_cast<Wav2Vec2Model*>(model.get());
  IA_CHECK(m != nullptr && m->params().head == Wav2Vec2Head::CTC, dir,
           ": automatic-speech-recognition needs a CTC head (Wav2Vec2ForCTC)");
  if (!ctc) ctc = CtcDecoder::from_dir(dir, m->params().vocab);
  nlohmann::json texts = nlohmann::json::array();
  for (const auto& input : req.inputs) {
    Audio a = conform(load_audio(input), fe.sampling_rate());
    TensorMap out = m->forward(fe.extract(a));
    const Tensor& ids = out.at("greedy_ctc_ids");
    texts.push_back(ctc->decode(std::vector<int64_t>(ids.i64(), ids.i64() + ids.numel())));
  }
  return success_result("transcription", {{"text", texts[0]}, {"all_texts", texts}});
}

nlohmann::json AudioPipeline::Impl::classify(const AudioRequest& req) {
  auto* m = dynamic_cast<Wav2Vec2Model*>(model.get());
  IA_CHECK(m != nullptr && m->params().head == Wav2Vec2Head::SequenceClassification, dir,
           ": audio-classification needs a classification head (Wav2Vec2ForSequenceClassification)");
  Audio a = conform(load_audio(req.inputs[0]), fe.sampling_rate());
  TensorMap out = m->forward(fe.extract(a));
  const Tensor& logits = out.at("logits");
  const int64_t L = logits.dim(1);
  std::vector<float> p(logits.f32(), logits.f32() + L);
  cpu::softmax_inplace(p.data(), L);
  std::vector<int64_t> order(static_cast<size_t>(L));
  for (int64_t i = 0; i < L; ++i) order[size_t(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return p[size_t(x)] > p[size_t(y)]; });
  nlohmann::json results = nlohmann::json::array();
  const int64_t k = std::min<int64_t>(std::max<int64_t>(req.top_k, 1), L);
  for (int64_t i = 0; i < k; ++i)
    results.push_back({{"label", m->params().id2label[size_t(order[size_t(i)])]}, {"score", p[size_t(order[size_t(i)])]}});
  return success_result("classification",
                        {{"results", results}, {"top_label", results[0]["label"]}, {"top_score", results[0]["score"]}});
}

nlohmann::json AudioPipeline::run(const AudioRequest& req) {
  try {
    IA_CHECK(!req.inputs.empty(), "no input: give --input FILE.wav (or - for stdin)");
    const auto tasks = impl_->model->tasks();
    const std::string task = req.task.empty() ? (tasks.empty() ? std::string() : tasks[0]) : req.task;
    IA_CHECK(std::find(tasks.begin(), tasks.end(), task) != tasks.end(), impl_->dir, ": task '", task,
             "' is not available for this model (available: ", [&] {
               std::string s;
               for (const auto& t : tasks) s += (s.empty() ? "" : ", ") + t;
               return s;
             }(), ")");
    if (task == "audio-classification") return impl_->classify(req);
    IA_CHECK(task == "automatic-speech-recognition", impl_->dir, ": the audio pipeline does not run '", task, "'");
    if (impl_->model->model_type() == "whisper") return impl_->transcribe_whisper(req);
    return impl_->transcribe_ctc(req);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

}  // namespace ia
