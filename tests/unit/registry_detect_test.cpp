// Detection from hub names (including every case the original Python detector got
// wrong) and from model directories (every bundled fixture, plus bad/unknown configs).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/error.h"
#include "registry/detect.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

struct NameCase {
  const char* name;
  const char* model_type;  // "" = no model type expected
  Family family;
  double min_confidence;
};

void expect_name(const NameCase& c) {
  Detection d = detect_from_name(c.name);
  SCOPED_TRACE(std::string(c.name) + " -> " + d.rule);
  EXPECT_EQ(d.source, "name");
  ASSERT_TRUE(d.family_known);
  EXPECT_EQ(d.model_type, c.model_type);
  EXPECT_STREQ(family_name(d.family), family_name(c.family));
  EXPECT_GE(d.confidence, c.min_confidence);
  EXPECT_LE(d.confidence, 1.0);
  EXPECT_FALSE(d.rule.empty());
  EXPECT_FALSE(d.task.empty());
}

}  // namespace

// The cases named in the brief, where the original system was wrong.
TEST(RegistryDetectName, OriginalSystemFailures) {
  const NameCase cases[] = {
      {"openai/clip-vit-base-patch32", "clip", Family::VisionText, 0.85},        // was vision
      {"facebook/sam-vit-base", "sam", Family::Diffusion, 0.85},                 // was vision
      {"Salesforce/blip2-opt-2.7b", "blip-2", Family::Multimodal, 0.85},         // was decoder-only (OPT)
      {"Qwen/Qwen1.5-MoE-A2.7B", "qwen2_moe", Family::MixtureOfExperts, 0.85},   // was decoder-only
      {"allenai/OLMoE-1B-7B-0924", "olmoe", Family::MixtureOfExperts, 0.85},     // was decoder-only
      {"databricks/dbrx-instruct", "dbrx", Family::MixtureOfExperts, 0.85},      // was encoder-only
      {"ai21labs/Jamba-v0.1", "jamba", Family::StateSpace, 0.85},                // was encoder-only
      {"deepseek-ai/deepseek-moe-16b-base", "deepseek", Family::MixtureOfExperts, 0.85},  // was encoder-only
      {"deepseek-ai/DeepSeek-V2-Lite", "deepseek_v2", Family::MixtureOfExperts, 0.85},
  };
  for (const auto& c : cases) expect_name(c);
}

TEST(RegistryDetectName, CommonHubNames) {
  const NameCase cases[] = {
      {"bert-base-uncased", "bert", Family::EncoderOnly, 0.85},
      {"gpt2", "gpt2", Family::DecoderOnly, 0.95},
      {"mistralai/Mixtral-8x7B-v0.1", "mixtral", Family::MixtureOfExperts, 0.85},
      {"state-spaces/mamba-130m-hf", "mamba", Family::StateSpace, 0.85},
      {"state-spaces/mamba-2.8b-hf", "mamba", Family::StateSpace, 0.85},  // 2.8B parameters, not Mamba-2
      {"state-spaces/mamba2-130m", "mamba2", Family::StateSpace, 0.85},
      {"facebook/rag-token-nq", "rag", Family::Rag, 0.85},
      {"facebook/rag-sequence-nq", "rag", Family::Rag, 0.85},
      {"facebook/dpr-ctx_encoder-single-nq-base", "dpr", Family::EncoderOnly, 0.85},
      {"distilbert-base-uncased-finetuned-sst-2-english", "distilbert", Family::EncoderOnly, 0.85},
      {"xlm-roberta-base", "xlm-roberta", Family::EncoderOnly, 0.85},
      {"microsoft/deberta-v3-base", "deberta-v2", Family::EncoderOnly, 0.85},
      {"google/flan-t5-base", "t5", Family::EncoderDecoder, 0.85},
      {"t5-small", "t5", Family::EncoderDecoder, 0.85},
      {"facebook/bart-large-cnn", "bart", Family::EncoderDecoder, 0.85},
      {"google/switch-base-8", "switch_transformers", Family::MixtureOfExperts, 0.85},
      {"facebook/nllb-200-distilled-600M", "m2m_100", Family::EncoderDecoder, 0.85},
      {"facebook/nllb-moe-54b", "nllb-moe", Family::MixtureOfExperts, 0.85},
      {"google/gemma-2b", "gemma", Family::DecoderOnly, 0.85},
      {"google/gemma-2-9b", "gemma2", Family::DecoderOnly, 0.85},
      {"microsoft/phi-2", "phi", Family::DecoderOnly, 0.85},
      {"microsoft/Phi-3-mini-4k-instruct", "phi3", Family::DecoderOnly, 0.85},
      {"Qwen/Qwen2-7B", "qwen2", Family::DecoderOnly, 0.85},
      {"Qwen/Qwen2.5-7B-Instruct", "qwen2", Family::DecoderOnly, 0.85},
      {"meta-llama/Llama-2-7b-hf", "llama", Family::DecoderOnly, 0.85},
      {"TinyLlama/TinyLlama-1.1B-Chat-v1.0", "llama", Family::DecoderOnly, 0.85},
      {"EleutherAI/gpt-j-6b", "gptj", Family::DecoderOnly, 0.85},
      {"EleutherAI/gpt-neox-20b", "gpt_neox", Family::DecoderOnly, 0.85},
      {"EleutherAI/gpt-neo-125m", "gpt_neo", Family::DecoderOnly, 0.85},
      {"bigcode/starcoder2-3b", "starcoder2", Family::DecoderOnly, 0.85},
      {"bigcode/starcoder", "gpt_bigcode", Family::DecoderOnly, 0.85},
      {"facebook/opt-125m", "opt", Family::DecoderOnly, 0.85},
      {"google/recurrentgemma-2b", "recurrent_gemma", Family::StateSpace, 0.85},
      {"RWKV/rwkv-4-169m-pile", "rwkv", Family::StateSpace, 0.85},
      {"tiiuae/falcon-mamba-7b", "falcon_mamba", Family::StateSpace, 0.85},
      {"tiiuae/falcon-7b", "falcon", Family::DecoderOnly, 0.85},
      {"google/vit-base-patch16-224", "vit", Family::Vision, 0.85},
      {"facebook/detr-resnet-50", "detr", Family::Vision, 0.85},
      {"facebook/maskformer-swin-base-ade", "maskformer", Family::Vision, 0.85},
      {"google/owlvit-base-patch32", "owlvit", Family::VisionText, 0.85},
      {"google/siglip-base-patch16-224", "siglip", Family::VisionText, 0.85},
      {"Salesforce/blip-image-captioning-base", "blip", Family::VisionText, 0.85},
      {"llava-hf/llava-1.5-7b-hf", "llava", Family::Multimodal, 0.85},
      {"llava-hf/llava-v1.6-mistral-7b-hf", "llava_next", Family::Multimodal, 0.85},
      {"google/paligemma-3b-pt-224", "paligemma", Family::Multimodal, 0.85},
      {"HuggingFaceM4/idefics2-8b", "idefics2", Family::Multimodal, 0.85},
      {"openai/whisper-tiny", "whisper", Family::Speech, 0.85},
      {"facebook/wav2vec2-base-960h", "wav2vec2", Family::Speech, 0.85},
      {"facebook/hubert-large-ls960-ft", "hubert", Family::Speech, 0.85},
      {"huggingface/autoformer-tourism-monthly", "autoformer", Family::Other, 0.85},
      {"https://huggingface.co/openai/clip-vit-large-patch14", "clip", Family::VisionText, 0.85},
      {"stabilityai/stable-diffusion-2-1", "", Family::Diffusion, 0.85},
      {"bigscience/T0pp", "t5", Family::EncoderDecoder, 0.85},  // T0 is T5, not the org's BLOOM
      {"Helsinki-NLP/opus-mt-en-de", "marian", Family::EncoderDecoder, 0.85},
      {"intfloat/e5-base-v2", "bert", Family::EncoderOnly, 0.85},
      {"01-ai/Yi-6B", "llama", Family::DecoderOnly, 0.85},
      {"microsoft/Phi-3.5-MoE-instruct", "phimoe", Family::MixtureOfExperts, 0.85},
  };
  for (const auto& c : cases) expect_name(c);
}

TEST(RegistryDetectName, MarkersAndOrganisations) {
  // Sparse-expert markers turn a dense decoder guess into MoE, with lower confidence.
  Detection d = detect_from_name("someone/mistral-8x7b-merge");
  EXPECT_EQ(d.family, Family::MixtureOfExperts);
  EXPECT_EQ(d.model_type, "mixtral");
  EXPECT_LE(d.confidence, 0.7);
  d = detect_from_name("someone/Qwen2-MoE-tiny");
  EXPECT_EQ(d.family, Family::MixtureOfExperts);
  EXPECT_EQ(d.model_type, "qwen2_moe");
  d = detect_from_name("ibm-granite/granite-3.0-1b-a400m-base");  // active-parameter suffix
  EXPECT_EQ(d.family, Family::MixtureOfExperts);
  EXPECT_EQ(d.model_type, "granitemoe");
  d = detect_from_name("acme/widget-moe-3b");
  EXPECT_EQ(d.family, Family::MixtureOfExperts);
  EXPECT_EQ(d.model_type, "");
  EXPECT_LE(d.confidence, 0.5);
  // The organisation only speaks when the name says nothing.
  d = detect_from_name("state-spaces/some-checkpoint");
  EXPECT_EQ(d.model_type, "mamba");
  EXPECT_DOUBLE_EQ(d.confidence, 0.5);
  d = detect_from_name("distil-whisper/distil-large-v2");
  EXPECT_EQ(d.model_type, "whisper");
  EXPECT_EQ(d.family, Family::Speech);
}

TEST(RegistryDetectName, UnknownNamesAreUnknownNotEncoderOnly) {
  for (const char* n : {"totally-unknown-thing", "", "acme/widget-7b", "github-copilot"}) {
    Detection d = detect_from_name(n);
    EXPECT_FALSE(d.family_known) << n << " -> " << d.rule;
    EXPECT_EQ(d.confidence, 0.0) << n;
    EXPECT_EQ(d.model_type, "") << n;
    EXPECT_FALSE(d.rule.empty());
  }
}

TEST(RegistryDetectName, BoundariesAreRespected) {
  // "bert" inside "distilbert"/"roberta" must not win; "opt" inside "blip2-opt" must not win.
  EXPECT_EQ(detect_from_name("distilroberta-base").model_type, "roberta");
  EXPECT_EQ(detect_from_name("cardiffnlp/twitter-roberta-base-sentiment").model_type, "roberta");
  EXPECT_EQ(detect_from_name("Salesforce/blip2-flan-t5-xl").model_type, "blip-2");
  Detection inside = detect_from_name("cardiffnlp/twitter-roberta-base-sentiment");
  EXPECT_LT(inside.confidence, 0.85);  // not at the start of the name
}

TEST(RegistryDetectTask, HeadClassDecidesTask) {
  auto task = [](const char* arch, const char* type) {
    const ModelTypeInfo* e = find_model_type(type);
    return task_for_architecture(arch, e, e->family);
  };
  EXPECT_EQ(task("BertForSequenceClassification", "bert"), "text-classification");
  EXPECT_EQ(task("BertForMaskedLM", "bert"), "fill-mask");
  EXPECT_EQ(task("BertForTokenClassification", "bert"), "token-classification");
  EXPECT_EQ(task("BertForQuestionAnswering", "bert"), "question-answering");
  EXPECT_EQ(task("BertModel", "bert"), "feature-extraction");
  EXPECT_EQ(task("LlamaForCausalLM", "llama"), "text-generation");
  EXPECT_EQ(task("GPT2LMHeadModel", "gpt2"), "text-generation");
  EXPECT_EQ(task("XLMWithLMHeadModel", "xlm"), "fill-mask");
  EXPECT_EQ(task("T5ForConditionalGeneration", "t5"), "text2text-generation");
  EXPECT_EQ(task("MarianMTModel", "marian"), "translation");
  EXPECT_EQ(task("WhisperForConditionalGeneration", "whisper"), "automatic-speech-recognition");
  EXPECT_EQ(task("Wav2Vec2ForSequenceClassification", "wav2vec2"), "audio-classification");
  EXPECT_EQ(task("BlipForConditionalGeneration", "blip"), "image-to-text");
  EXPECT_EQ(task("BlipForQuestionAnswering", "blip"), "visual-question-answering");
  EXPECT_EQ(task("LlavaForConditionalGeneration", "llava"), "image-text-to-text");
  EXPECT_EQ(task("OwlViTForObjectDetection", "owlvit"), "zero-shot-object-detection");
  EXPECT_EQ(task("DetrForObjectDetection", "detr"), "object-detection");
  EXPECT_EQ(task("TrOCRForCausalLM", "trocr"), "image-to-text");
  EXPECT_EQ(task("SwitchTransformersForConditionalGeneration", "switch_transformers"), "text2text-generation");
  EXPECT_EQ(task("SamModel", "sam"), "mask-generation");
  EXPECT_EQ(task("CLIPModel", "clip"), "zero-shot-image-classification");
  EXPECT_EQ(task("ViTModel", "vit"), "image-feature-extraction");
  EXPECT_EQ(task("", "mixtral"), "text-generation");
}

// ---- directories --------------------------------------------------------------

namespace {

// What each bundled fixture folder is (folder = model_type).
const std::map<std::string, Family>& fixture_families() {
  static const std::map<std::string, Family> m = {
      {"albert", Family::EncoderOnly},      {"bart", Family::EncoderDecoder},
      {"bert", Family::EncoderOnly},        {"blip", Family::VisionText},
      {"bloom", Family::DecoderOnly},       {"clip", Family::VisionText},
      {"clip_vision_model", Family::Vision},
      {"deberta-v2", Family::EncoderOnly},  {"distilbert", Family::EncoderOnly},
      {"dpr", Family::EncoderOnly},         {"electra", Family::EncoderOnly},
      {"falcon", Family::DecoderOnly},      {"gemma", Family::DecoderOnly},
      {"gemma2", Family::DecoderOnly},      {"gpt2", Family::DecoderOnly},
      {"gpt_bigcode", Family::DecoderOnly}, {"gpt_neo", Family::DecoderOnly},
      {"gpt_neox", Family::DecoderOnly},    {"gptj", Family::DecoderOnly},
      {"llama", Family::DecoderOnly},       {"llava", Family::Multimodal},
      {"mamba", Family::StateSpace},        {"mamba2", Family::StateSpace},
      {"mistral", Family::DecoderOnly},     {"mixtral", Family::MixtureOfExperts},
      {"opt", Family::DecoderOnly},         {"phi", Family::DecoderOnly},
      {"phi3", Family::DecoderOnly},        {"qwen2", Family::DecoderOnly},
      {"qwen2_moe", Family::MixtureOfExperts}, {"rag", Family::Rag},
      {"roberta", Family::EncoderOnly},     {"rwkv", Family::StateSpace},
      {"sam", Family::Diffusion},           {"starcoder2", Family::DecoderOnly},
      {"switch_transformers", Family::MixtureOfExperts}, {"t5", Family::EncoderDecoder},
      {"vit", Family::Vision},              {"wav2vec2", Family::Speech},
      {"whisper", Family::Speech},          {"xlm-roberta", Family::EncoderOnly},
  };
  return m;
}

// Expected task per head class of the bundled fixtures.
const std::map<std::string, std::string>& fixture_tasks() {
  static const std::map<std::string, std::string> m = {
      {"BertModel", "feature-extraction"},
      {"BertForMaskedLM", "fill-mask"},
      {"BertForSequenceClassification", "text-classification"},
      {"ElectraForPreTraining", "replaced-token-detection"},
      {"DPRContextEncoder", "feature-extraction"},
      {"DPRQuestionEncoder", "feature-extraction"},
      {"DPRReader", "question-answering"},
      {"GPT2LMHeadModel", "text-generation"},
      {"LlamaForCausalLM", "text-generation"},
      {"MixtralForCausalLM", "text-generation"},
      {"MambaForCausalLM", "text-generation"},
      {"T5ForConditionalGeneration", "text2text-generation"},
      {"BartForConditionalGeneration", "text2text-generation"},
      {"SwitchTransformersForConditionalGeneration", "text2text-generation"},
      {"WhisperForConditionalGeneration", "automatic-speech-recognition"},
      {"Wav2Vec2ForCTC", "automatic-speech-recognition"},
      {"ViTForImageClassification", "image-classification"},
      {"ViTModel", "image-feature-extraction"},
      {"CLIPModel", "zero-shot-image-classification"},
      {"BlipModel", "zero-shot-image-classification"},
      {"BlipForConditionalGeneration", "image-to-text"},
      {"LlavaForConditionalGeneration", "image-text-to-text"},
      {"SamModel", "mask-generation"},
      {"RagTokenForGeneration", "generative-question-answering"},
  };
  return m;
}

fs::path models_root() { return fs::path(IA_FIXTURES_DIR) / "models"; }

}  // namespace

TEST(RegistryDetectDir, EveryBundledFixture) {
  int dirs = 0, tasks_checked = 0;
  std::set<std::string> folders;
  for (const auto& type_dir : fs::directory_iterator(models_root())) {
    if (!type_dir.is_directory()) continue;
    std::string folder = type_dir.path().filename().string();
    folders.insert(folder);
    auto fam = fixture_families().find(folder);
    ASSERT_NE(fam, fixture_families().end()) << "bundled fixture folder '" << folder
                                             << "' has no expected family in this test: add it";
    for (const auto& model_dir : fs::directory_iterator(type_dir.path())) {
      if (!model_dir.is_directory()) continue;
      SCOPED_TRACE(model_dir.path().string());
      Detection d = detect_from_dir(model_dir.path().string());
      ++dirs;
      EXPECT_EQ(d.source, "directory");
      EXPECT_EQ(d.model_type, folder);
      ASSERT_NE(d.info, nullptr);
      EXPECT_TRUE(d.family_known);
      EXPECT_STREQ(family_name(d.family), family_name(fam->second));
      EXPECT_DOUBLE_EQ(d.confidence, 1.0);
      EXPECT_FALSE(d.architecture.empty());
      EXPECT_FALSE(d.task.empty());
      EXPECT_EQ(d.supported(), find_template(folder) != nullptr);
      auto t = fixture_tasks().find(d.architecture);
      if (t != fixture_tasks().end()) {
        EXPECT_EQ(d.task, t->second) << d.architecture;
        ++tasks_checked;
      }
    }
  }
  EXPECT_GE(dirs, 50);
  EXPECT_GE(tasks_checked, 24);
  // Every folder this test classifies is still bundled (the map does not go stale silently).
  for (const auto& [folder, fam] : fixture_families()) EXPECT_TRUE(folders.count(folder)) << folder;
}

TEST(RegistryDetectDir, SubConfigsAreReported) {
  Detection llava = detect_from_dir((models_root() / "llava" / "LlavaForConditionalGeneration").string());
  bool text = false, vision = false;
  for (const auto& n : llava.notes) {
    text |= n.rfind("text_config: llama", 0) == 0;
    vision |= n.rfind("vision_config: clip_vision_model", 0) == 0;
  }
  EXPECT_TRUE(text);
  EXPECT_TRUE(vision);
  Detection rag = detect_from_dir((models_root() / "rag" / "RagTokenForGeneration").string());
  bool qe = false;
  for (const auto& n : rag.notes) qe |= n.rfind("question_encoder: dpr", 0) == 0;
  EXPECT_TRUE(qe);
}

namespace {

using ia::test::ScratchDir;

std::string error_of(const std::string& dir) {
  try {
    detect_from_dir(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(RegistryDetectDir, UnknownModelTypeIsGuessedFromClassAndKeys) {
  ScratchDir t("deepseek");
  t.write("config.json", R"({"model_type": "deepseek_v2", "architectures": ["DeepseekV2ForCausalLM"],
                     "n_routed_experts": 64, "auto_map": {}})");
  Detection d = detect_from_dir(t.str());
  EXPECT_EQ(d.model_type, "deepseek_v2");
  EXPECT_EQ(d.info, nullptr);
  EXPECT_EQ(d.family, Family::MixtureOfExperts);
  EXPECT_EQ(d.task, "text-generation");
  EXPECT_GT(d.confidence, 0.0);
  EXPECT_LE(d.confidence, 0.7);
  EXPECT_FALSE(d.supported());
}

TEST(RegistryDetectDir, MissingModelTypeFallsBackToArchitecture) {
  ScratchDir t("noarch");
  t.write("config.json", R"({"architectures": ["XLMRobertaForMaskedLM"], "hidden_size": 8})");
  Detection d = detect_from_dir(t.str());
  EXPECT_EQ(d.model_type, "xlm-roberta");
  EXPECT_EQ(d.family, Family::EncoderOnly);
  EXPECT_EQ(d.task, "fill-mask");
  EXPECT_LE(d.confidence, 0.7);

  ScratchDir u("ssm");
  u.write("config.json", R"({"model_type": "my_hybrid", "architectures": ["MyHybridForCausalLM"], "mamba_d_state": 16})");
  Detection s = detect_from_dir(u.str());
  EXPECT_EQ(s.family, Family::StateSpace);

  ScratchDir v("nothing");
  v.write("config.json", R"({"hidden_size": 8})");
  Detection n = detect_from_dir(v.str());
  EXPECT_FALSE(n.family_known);
  EXPECT_EQ(n.confidence, 0.0);
}

TEST(RegistryDetectDir, BadDirectoriesGiveClearErrors) {
  EXPECT_NE(error_of("/nonexistent/ia/model").find("/nonexistent/ia/model"), std::string::npos);
  ScratchDir empty("empty");
  EXPECT_NE(error_of(empty.str()).find("config.json"), std::string::npos);
  ScratchDir bad("badjson");
  bad.write("config.json", "{\"model_type\": ");
  std::string e = error_of(bad.str());
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
  ScratchDir wrong("wrongtype");
  wrong.write("config.json", R"({"model_type": 7})");
  e = error_of(wrong.str());
  EXPECT_NE(e.find("model_type"), std::string::npos) << e;
}

TEST(RegistryDetect, DispatchesOnDirectoryOrName) {
  Detection d = detect((models_root() / "gpt2" / "GPT2LMHeadModel").string());
  EXPECT_EQ(d.source, "directory");
  EXPECT_EQ(d.model_type, "gpt2");
  Detection n = detect("gpt2-medium");
  EXPECT_EQ(n.source, "name");
  EXPECT_EQ(n.model_type, "gpt2");
  // Path spellings are directories, never guessed as names.
  EXPECT_THROW(detect("/nonexistent/ia/gpt2"), Error);
  EXPECT_THROW(detect("./no-such-dir/bert-base-uncased"), Error);
}
