// The non-text side of a runnable bundled model (bundled_model.h): fixtures hold
// a checkpoint and reference tensors, not the preprocessor_config.json the image
// and audio pipelines read, so the copy gets one sized for the checkpoint (the
// processor class and defaults of the model type's hub checkpoints), plus built-in
// inputs: a small RGB PNG and a 16 kHz WAV written here (deterministic, no files
// needed from elsewhere).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "composer/bundled_model.h"
#include "core/error.h"
#include "preprocess/png_encode.h"
#include "formats/hf_config.h"
#include "templates/family.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// An RGB PNG: a colour gradient with a square.
std::string probe_png(int w, int h) {
  std::vector<uint8_t> rgb;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool square = x > w / 4 && x < w / 2 && y > h / 3 && y < 2 * h / 3;
      rgb.push_back(uint8_t(square ? 230 : (x * 255) / w));
      rgb.push_back(uint8_t(square ? 40 : (y * 255) / h));
      rgb.push_back(uint8_t(square ? 40 : ((x + y) * 97) & 0xFF));
    }
  const std::vector<uint8_t> png = encode_png(rgb.data(), w, h, 3);
  return std::string(png.begin(), png.end());
}

// 16-bit mono PCM: a rising tone with a little noise-like harmonic.
std::string probe_wav(int rate, int64_t frames) {
  std::string d;
  auto u32 = [&d](uint32_t v) { d.append(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&d](uint16_t v) { d.append(reinterpret_cast<const char*>(&v), 2); };
  const uint32_t bytes = uint32_t(frames * 2);
  d += "RIFF";
  u32(36 + bytes);
  d += "WAVEfmt ";
  u32(16), u16(1), u16(1), u32(uint32_t(rate)), u32(uint32_t(rate * 2)), u16(2), u16(16);
  d += "data";
  u32(bytes);
  for (int64_t i = 0; i < frames; ++i) {
    const double t = double(i) / rate;
    const double v = 9000 * std::sin(2 * M_PI * (220 + 200 * t) * t) + 2500 * std::sin(0.9 * double(i));
    u16(uint16_t(int16_t(v)));
  }
  return d;
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
  IA_CHECK(out.good(), p.string(), ": cannot write");
}

const json kClipMean = {0.48145466, 0.4578275, 0.40821073}, kClipStd = {0.26862954, 0.26130258, 0.27577711};

json image_processor(const std::string& type, const HFConfig& cfg) {
  const HFConfig v = cfg.has("vision_config") ? cfg.sub("vision_config") : cfg;
  const int64_t size = v.get_int("image_size", 224);
  const double rescale = 1.0 / 255;
  if (type == "vit")
    return {{"image_processor_type", "ViTImageProcessor"}, {"do_resize", true}, {"size", {{"height", size}, {"width", size}}},
            {"resample", 2}, {"do_rescale", true}, {"rescale_factor", rescale}, {"do_normalize", true},
            {"image_mean", {0.5, 0.5, 0.5}}, {"image_std", {0.5, 0.5, 0.5}}};
  if (type == "blip")
    return {{"image_processor_type", "BlipImageProcessor"}, {"do_resize", true}, {"size", {{"height", size}, {"width", size}}},
            {"resample", 3}, {"do_rescale", true}, {"rescale_factor", rescale}, {"do_normalize", true},
            {"do_convert_rgb", true}, {"image_mean", kClipMean}, {"image_std", kClipStd}};
  if (type == "sam")
    return {{"image_processor_type", "SamImageProcessor"}, {"do_resize", true}, {"size", {{"longest_edge", size}}},
            {"resample", 2}, {"do_rescale", true}, {"rescale_factor", rescale}, {"do_normalize", true},
            {"do_pad", true}, {"pad_size", {{"height", size}, {"width", size}}}, {"do_convert_rgb", true},
            {"mask_size", {{"longest_edge", 256}}}, {"mask_pad_size", {{"height", 256}, {"width", 256}}},
            {"image_mean", {0.485, 0.456, 0.406}}, {"image_std", {0.229, 0.224, 0.225}}};
  // CLIP and LLaVA (whose processor is CLIP's).
  return {{"image_processor_type", "CLIPImageProcessor"}, {"do_resize", true}, {"size", {{"shortest_edge", size}}},
          {"resample", 3}, {"do_center_crop", true}, {"crop_size", {{"height", size}, {"width", size}}},
          {"do_rescale", true}, {"rescale_factor", rescale}, {"do_normalize", true}, {"do_convert_rgb", true},
          {"image_mean", kClipMean}, {"image_std", kClipStd}};
}

}  // namespace

std::string probe_input_file(const std::string& dir) {
  const fs::path d(dir);
  if (fs::exists(d / "probe.png")) return (d / "probe.png").string();
  if (fs::exists(d / "probe.wav")) return (d / "probe.wav").string();
  return "";
}

bool write_probe_input(const std::string& model_type, const std::string& dst_dir) {
  const FamilyTemplate* t = find_template(model_type);
  const Family f = t ? t->family : Family::Other;
  fs::create_directories(dst_dir);
  if (f == Family::Vision || f == Family::VisionText || f == Family::Multimodal || model_type == "sam") {
    write(fs::path(dst_dir) / "probe.png", probe_png(45, 34));
    return true;
  }
  if (f == Family::Speech) {
    write(fs::path(dst_dir) / "probe.wav", probe_wav(16000, 12000));
    return true;
  }
  return false;
}

void write_media_files(const BundledModel& m, const std::string& dst_dir) {
  const fs::path dst(dst_dir);
  const FamilyTemplate* t = find_template(m.model_type);
  const Family f = t ? t->family : Family::Other;
  const HFConfig cfg = HFConfig::load((dst / "config.json").string());
  write_probe_input(m.model_type, dst_dir);
  if (f == Family::Rag) {
    // A document set with precomputed embeddings of the question encoder's output size.
    const HFConfig q = cfg.sub("question_encoder");
    const int64_t dim = q.get_int("projection_dim", 0) > 0 ? q.get_int("projection_dim", 0) : q.get_int("hidden_size", 768);
    std::ofstream docs(dst / "docs.jsonl");
    for (int k = 0; k < 4; ++k) {
      json e = json::array();
      for (int64_t d = 0; d < dim; ++d) e.push_back(std::cos(0.37 * double(d + 1) * double(k + 1)));
      docs << json{{"title", "w" + std::to_string(13 + k)}, {"text", "w" + std::to_string(17 + k) + " w20"},
                   {"embedding", e}}.dump()
           << "\n";
    }
    IA_CHECK(docs.good(), (dst / "docs.jsonl").string(), ": cannot write");
    return;
  }
  if (f == Family::Vision || f == Family::VisionText || f == Family::Multimodal || m.model_type == "sam") {
    std::ofstream(dst / "preprocessor_config.json") << image_processor(m.model_type, cfg).dump(2);
  } else if (f == Family::Speech) {
    json fe;
    if (m.model_type == "whisper") {
      // One window = the encoder's 2 * max_source_positions frames of 1 s audio.
      const int64_t frames = 2 * cfg.get_int("max_source_positions", 1500);
      IA_CHECK(16000 % frames == 0, dst_dir, "/config.json: max_source_positions ", frames / 2,
               " gives no whole hop length for a 1 s window");
      const int64_t hop = 16000 / frames;
      fe = {{"feature_extractor_type", "WhisperFeatureExtractor"}, {"feature_size", cfg.get_int("num_mel_bins", 80)},
            {"sampling_rate", 16000}, {"hop_length", hop}, {"n_fft", 2 * hop}, {"chunk_length", 1}, {"padding_value", 0.0}};
    } else {
      fe = {{"feature_extractor_type", "Wav2Vec2FeatureExtractor"}, {"feature_size", 1}, {"sampling_rate", 16000},
            {"do_normalize", true}, {"return_attention_mask", cfg.get_string("feat_extract_norm", "group") == "layer"},
            {"padding_value", 0.0}};
      // CTC vocabulary: the pad (blank) token, the word delimiter, then letters.
      json vocab = json::object();
      const int64_t pad = cfg.get_int("pad_token_id", 0);
      for (int64_t i = 0; i < cfg.get_int("vocab_size", 32); ++i)
        vocab[i == pad ? "<pad>" : i == pad + 1 ? "|" : (i >= 2 && i < 28) ? std::string(1, char('a' + i - 2)) : "w" + std::to_string(i)] = i;
      std::ofstream(dst / "vocab.json") << vocab.dump();
      std::ofstream(dst / "tokenizer_config.json") << R"({"pad_token": "<pad>", "word_delimiter_token": "|", "do_lower_case": false})";
    }
    std::ofstream(dst / "preprocessor_config.json") << fe.dump(2);
  }
}

}  // namespace ia

namespace ia {

namespace {
bool is_generation_task(const std::string& task) {
  return task == "text-generation" || task == "text2text-generation" || task == "summarization" || task == "translation";
}
}  // namespace

json probe_request(const BundledModel& m, const std::string& dir, const std::string& task) {
  json r = {{"task", task}};
  const std::string file = probe_input_file(dir);
  // Text from the vocabulary of the copy's word-level tokenizer.
  const std::string words = "w10 w11 w12";
  if (!file.empty() && task == "feature-extraction") {  // CLIP text embeddings: the texts ride in candidate_labels
    r["inputs"] = json::array({file});
    r["candidate_labels"] = json::array({words});
    return r;
  }
  if (task == "generative-qa" || task == "document-retrieval") {  // RAG over the copy's docs.jsonl
    r["inputs"] = json::array({words});
    r["docs"] = (fs::path(dir) / "docs.jsonl").string();
    r["n_docs"] = 2;
    r["max_new_tokens"] = 4;
    return r;
  }
  if (file.empty() || task == "text-generation") {
    r["inputs"] = json::array({probe_text(m, task)});
    if (is_generation_task(task) && !m.prompt_ids.empty()) r["max_new_tokens"] = m.max_new_tokens;
    else if (is_generation_task(task)) r["max_new_tokens"] = 4;
    return r;
  }
  r["inputs"] = json::array({file});
  if (task == "zero-shot-image-classification" || task == "image-text-similarity") {
    r["candidate_labels"] = json::array({"w10 w11", "w12 w13", "w14"});
    r["hypothesis_template"] = "{}";
  } else if (task == "image-text-to-text" || task == "visual-question-answering") {
    r["prompt"] = words;
    r["max_new_tokens"] = 4;
  } else if (task == "image-to-text") {
    r["max_new_tokens"] = 6;
  } else if (task == "mask-generation") {
    r["points"] = "20,15";
    r["labels"] = "1";
  } else if (task == "automatic-speech-recognition" && m.model_type == "whisper") {
    r["max_new_tokens"] = 4;
  }
  return r;
}

}  // namespace ia
