// Detection from a model directory (config.json) and the head-class -> task rules.
#include "registry/detect.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/hf_config.h"
#include "registry/detect_internal.h"

namespace ia {

namespace fs = std::filesystem;

bool Detection::supported() const { return !model_type.empty() && find_template(model_type) != nullptr; }

const char* family_default_task(Family f) {
  switch (f) {
    case Family::EncoderOnly: return "fill-mask";
    case Family::DecoderOnly: return "text-generation";
    case Family::EncoderDecoder: return "text2text-generation";
    case Family::Vision: return "image-classification";
    case Family::VisionText: return "zero-shot-image-classification";
    case Family::Speech: return "automatic-speech-recognition";
    case Family::Multimodal: return "image-text-to-text";
    case Family::Diffusion: return "text-to-image";
    case Family::MixtureOfExperts: return "text-generation";
    case Family::StateSpace: return "text-generation";
    case Family::Rag: return "generative-question-answering";
    case Family::Other: return "";
  }
  return "";
}

namespace {

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string default_of(const ModelTypeInfo* info, Family f) { return info ? info->default_task : family_default_task(f); }

bool is_text_family(Family f) {
  return f == Family::EncoderOnly || f == Family::DecoderOnly || f == Family::EncoderDecoder ||
         f == Family::MixtureOfExperts || f == Family::StateSpace;
}

// Head suffix -> task, longest suffixes first where one contains another.
struct HeadRule {
  const char* suffix;
  const char* task;  // nullptr: the registry/family default
};
const HeadRule kHeadRules[] = {
    {"ForConditionalGeneration", nullptr},  // its meaning depends on the family (seq2seq, ASR, captioning...)
    {"ForCausalImageModeling", "image-generation"},
    {"ForCausalLM", "text-generation"},
    {"WithLMHeadModel", "fill-mask"},  // XLM/FlauBERT: masked LM
    {"ModelWithLMHead", "text-generation"},  // Reformer
    {"LMHeadModel", "text-generation"},
    {"ForMaskedLM", "fill-mask"},
    {"ForSequenceClassification", "text-classification"},
    {"ForTokenClassification", "token-classification"},
    {"ForQuestionAnsweringSimple", "question-answering"},
    {"ForQuestionAnswering", "question-answering"},
    {"ForMultipleChoice", "multiple-choice"},
    {"ForNextSentencePrediction", "next-sentence-prediction"},
    {"ForImageClassificationWithTeacher", "image-classification"},
    {"ForImageClassification", "image-classification"},
    {"ForZeroShotObjectDetection", "zero-shot-object-detection"},
    {"ForObjectDetection", "object-detection"},
    {"ForSemanticSegmentation", "image-segmentation"},
    {"ForUniversalSegmentation", "image-segmentation"},
    {"ForInstanceSegmentation", "image-segmentation"},
    {"ForSegmentation", "image-segmentation"},
    {"ForDepthEstimation", "depth-estimation"},
    {"ForMaskedImageModeling", "masked-image-modeling"},
    {"ForCTC", "automatic-speech-recognition"},
    {"ForAudioFrameClassification", "audio-frame-classification"},
    {"ForAudioClassification", "audio-classification"},
    {"ForXVector", "speaker-verification"},
    {"ForSpeechToText", "automatic-speech-recognition"},
    {"ForTextToSpeech", "text-to-audio"},
    {"ForTextToText", "translation"},
    {"ForVideoClassification", "video-classification"},
    {"ForImageTextRetrieval", "image-text-retrieval"},
    {"ForImageAndTextRetrieval", "image-text-retrieval"},
    {"ForKeypointDetection", "keypoint-detection"},
    {"ForImageSuperResolution", "image-to-image"},
    {"ForVisionText2Text", "image-text-to-text"},
    {"ForPrediction", "time-series-forecasting"},
    {"ForRegression", "time-series-regression"},
    {"ForPreTraining", nullptr},
    {"MTModel", "translation"},  // MarianMTModel
    {"EncoderModel", "feature-extraction"},  // T5EncoderModel and relatives
};

}  // namespace

std::string task_for_architecture(const std::string& arch, const ModelTypeInfo* info, Family family) {
  if (arch.empty()) return default_of(info, family);
  // Class-specific heads first.
  if (arch == "DPRContextEncoder" || arch == "DPRQuestionEncoder") return "feature-extraction";
  if (arch == "DPRReader") return "question-answering";
  if (arch == "ElectraForPreTraining") return "replaced-token-detection";
  for (const auto& r : kHeadRules) {
    if (!ends_with(arch, r.suffix)) continue;
    std::string suf = r.suffix;
    if (!r.task) return default_of(info, family);
    std::string task = r.task;
    // The same head name means a different task outside text families.
    if (suf == "ForSequenceClassification" && family == Family::Speech) return "audio-classification";
    if ((suf == "ForQuestionAnswering" || suf == "ForQuestionAnsweringSimple") &&
        (family == Family::VisionText || family == Family::Multimodal))
      return info && std::string(info->default_task) == "document-question-answering" ? "document-question-answering"
                                                                                       : "visual-question-answering";
    if (suf == "ForObjectDetection" && family == Family::VisionText) return "zero-shot-object-detection";
    if (suf == "ForCausalLM" && !is_text_family(family)) return default_of(info, family);  // TrOCR, GIT, Fuyu
    return task;
  }
  // A bare base model (BertModel, CLIPModel, SamModel...): what its outputs serve.
  if (ends_with(arch, "Model")) {
    switch (family) {
      case Family::Vision: return "image-feature-extraction";
      case Family::VisionText:
        // Dual-encoder base models score image/text pairs.
        return info && std::string(info->default_task).rfind("zero-shot", 0) == 0 ? info->default_task
                                                                                     : "zero-shot-image-classification";
      case Family::EncoderOnly:
      case Family::DecoderOnly:
      case Family::EncoderDecoder:
      case Family::MixtureOfExperts:
      case Family::StateSpace:
      case Family::Speech: return "feature-extraction";
      default: return default_of(info, family);
    }
  }
  return default_of(info, family);
}

namespace {

// Config keys that reveal sparse experts or recurrent state when model_type is unknown.
bool has_any(const HFConfig& c, std::initializer_list<const char*> keys, std::string* which) {
  for (const char* k : keys)
    if (c.has(k)) {
      *which = k;
      return true;
    }
  return false;
}

void note_sub_configs(const HFConfig& cfg, Detection& d) {
  for (const char* key : {"text_config", "vision_config", "audio_config", "encoder", "decoder", "generator",
                          "question_encoder", "prompt_encoder_config", "mask_decoder_config", "speech_config"}) {
    const auto& raw = cfg.raw();
    if (!raw.contains(key) || !raw[key].is_object()) continue;
    const auto& sub = raw[key];
    std::string mt = sub.contains("model_type") && sub["model_type"].is_string() ? sub["model_type"].get<std::string>() : "";
    std::string line = std::string(key) + ": " + (mt.empty() ? "(no model_type)" : mt);
    if (const ModelTypeInfo* e = mt.empty() ? nullptr : find_model_type(mt))
      line += std::string(" (") + family_name(e->family) + ")";
    d.notes.push_back(line);
  }
}

}  // namespace

Detection detect_from_dir(const std::string& dir) {
  Detection d;
  d.input = dir;
  d.source = "directory";
  IA_CHECK(fs::is_directory(dir), dir, ": not a directory");
  fs::path cfg_path = fs::path(dir) / "config.json";
  IA_CHECK(fs::exists(cfg_path), dir, ": no config.json (is this a Hugging Face model directory?)");
  HFConfig cfg = HFConfig::load(cfg_path.string());
  const auto& raw = cfg.raw();
  if (raw.contains("model_type") && !raw["model_type"].is_null()) {
    IA_CHECK(raw["model_type"].is_string(), cfg.label(), ": field 'model_type' must be a string");
    d.model_type = raw["model_type"].get<std::string>();
  }
  if (raw.contains("architectures") && raw["architectures"].is_array()) {
    const auto& a = raw["architectures"];
    if (!a.empty() && a[0].is_string()) d.architecture = a[0].get<std::string>();
    if (a.size() > 1) d.notes.push_back("config lists " + std::to_string(a.size()) + " architectures; using the first");
  }
  d.info = d.model_type.empty() ? nullptr : find_model_type(d.model_type);
  if (d.info) {
    d.family_known = true;
    d.family = d.info->family;
    d.confidence = 1.0;
    d.rule = cfg.label() + ": model_type '" + d.model_type + "' is in the transformers 4.44.2 registry -> " +
             family_name(d.family);
  } else {
    // Not a 4.44.2 model type (remote code, newer release) or no model_type at all:
    // guess from the spelling of model_type and the architecture class, then config keys.
    Detection guess;
    bool matched = false;
    if (!d.model_type.empty()) matched = detail::match_model_name(detail::normalise_name(d.model_type), guess);
    if (!matched && !d.architecture.empty())
      matched = detail::match_model_name(detail::class_name_stem(d.architecture), guess);
    std::string key;
    if (has_any(cfg, {"num_local_experts", "n_routed_experts", "num_experts", "moe_num_experts", "num_experts_per_tok"},
                &key)) {
      guess.family_known = true;
      guess.family = Family::MixtureOfExperts;
      guess.rule = "config key '" + key + "' means sparse experts";
      guess.confidence = std::max(guess.confidence, 0.7);
      matched = true;
    }
    if (has_any(cfg, {"ssm_state_size", "mamba_d_state", "state_size", "d_state", "rescale_every"}, &key)) {
      guess.family_known = true;
      guess.family = Family::StateSpace;  // hybrids with experts too (Jamba-like) count as state-space
      guess.rule = "config key '" + key + "' means a recurrent/state-space mixer";
      guess.confidence = std::max(guess.confidence, 0.7);
      matched = true;
    }
    if (!matched && raw.contains("text_config") && raw.contains("vision_config")) {
      guess.family_known = true;
      guess.family = Family::VisionText;
      guess.rule = "text_config + vision_config";
      guess.confidence = 0.5;
      matched = true;
    }
    d.family_known = guess.family_known;
    d.family = guess.family;
    d.confidence = matched ? std::min(guess.confidence, 0.7) : 0.0;
    if (d.model_type.empty() && guess.info) {
      d.model_type = guess.model_type;
      d.info = guess.info;
    }
    d.rule = (d.model_type.empty() ? cfg.label() + ": no model_type"
                                    : cfg.label() + ": model_type '" + d.model_type + "' is not in transformers 4.44.2") +
             (matched ? "; guessed: " + guess.rule : "; nothing recognisable in model_type, architectures or keys");
    d.notes.insert(d.notes.end(), guess.notes.begin(), guess.notes.end());
  }
  note_sub_configs(cfg, d);
  if (d.family_known) d.task = task_for_architecture(d.architecture, d.info, d.family);
  return d;
}

Detection detect(const std::string& name_or_dir) {
  std::error_code ec;
  if (fs::is_directory(name_or_dir, ec)) return detect_from_dir(name_or_dir);
  // Something spelled as a filesystem path is never a hub id: a missing directory
  // is an error, not a guess from its last component.
  const std::string& s = name_or_dir;
  bool path_like = s.rfind("/", 0) == 0 || s.rfind("./", 0) == 0 || s.rfind("../", 0) == 0 || s.rfind("~", 0) == 0 ||
                   s == "." || s == "..";
  if (path_like || fs::exists(s, ec)) return detect_from_dir(s);
  return detect_from_name(s);
}

nlohmann::json detection_to_json(const Detection& d) {
  nlohmann::json j;
  j["input"] = d.input;
  j["source"] = d.source;
  j["model_type"] = d.model_type;
  j["in_registry"] = d.info != nullptr;
  j["display_name"] = d.info ? d.info->display_name : "";
  j["family"] = d.family_known ? family_name(d.family) : "unknown";
  j["task"] = d.task;
  if (d.source == "directory") j["architecture"] = d.architecture;
  j["status"] = d.supported() ? "supported" : "not yet";
  j["confidence"] = d.confidence;
  j["rule"] = d.rule;
  j["notes"] = d.notes;
  return j;
}

}  // namespace ia
