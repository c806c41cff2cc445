// Name / hub-id detection (rules documented in detect.h).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <regex>
#include <set>

#include "registry/detect.h"
#include "registry/detect_internal.h"

namespace ia {

namespace {

// A hand-written alias: a name fragment that means a model type (or, for model
// types transformers 4.44.2 does not have, at least a family). `family` is only used
// when `model_type` is not in the registry.
struct Alias {
  const char* text;        // normalised (lower case, '-' separators)
  const char* model_type;  // may be outside the registry (remote code / newer releases) or ""
  Family family;
  const char* why;
};

constexpr Family EO = Family::EncoderOnly;
constexpr Family DO = Family::DecoderOnly;
constexpr Family ED = Family::EncoderDecoder;
constexpr Family VI = Family::Vision;
constexpr Family VT = Family::VisionText;
constexpr Family SP = Family::Speech;
constexpr Family MM = Family::Multimodal;
constexpr Family DF = Family::Diffusion;
constexpr Family MOE = Family::MixtureOfExperts;
constexpr Family SS = Family::StateSpace;

// The cases the original Python detector got wrong come first; the rest are
// common hub names whose model_type is not spelled in the name.
const std::vector<Alias>& aliases() {
  static const std::vector<Alias> a = {
      {"clip-vit", "clip", VT, "CLIP with a ViT image tower is CLIP, not ViT"},
      {"sam-vit", "sam", DF, "Segment Anything with a ViT encoder is SAM, not ViT"},
      {"segment-anything", "sam", DF, "Segment Anything"},
      {"slimsam", "sam", DF, "distilled SAM"},
      {"blip2", "blip-2", MM, "BLIP-2 wraps OPT/Flan-T5; the language model named after it is not the architecture"},
      {"blip-2", "blip-2", MM, "BLIP-2"},
      {"qwen1.5-moe", "qwen2_moe", MOE, "Qwen1.5-MoE checkpoints use model_type qwen2_moe"},
      {"qwen-moe", "qwen2_moe", MOE, "Qwen MoE"},
      {"qwen2-57b-a14b", "qwen2_moe", MOE, "Qwen2-57B-A14B is the Qwen2 MoE release"},
      {"qwen1.5", "qwen2", DO, "Qwen1.5 dense checkpoints use model_type qwen2"},
      {"qwen2.5", "qwen2", DO, "Qwen2.5 dense checkpoints use model_type qwen2"},
      {"qwen", "qwen", DO, "original Qwen (remote code, model_type qwen)"},
      {"olmoe", "olmoe", MOE, "OLMoE: 64 experts, 8 active (model_type olmoe arrived in transformers 4.45)"},
      {"dbrx", "dbrx", MOE, "DBRX fine-grained MoE"},
      {"jamba", "jamba", SS, "Jamba hybrid Mamba/attention with MoE layers"},
      {"deepseek-moe", "deepseek", MOE, "DeepSeekMoE (remote code DeepseekForCausalLM)"},
      {"deepseek-v2", "deepseek_v2", MOE, "DeepSeek-V2: MLA attention + DeepSeekMoE (remote code in 4.44.2)"},
      {"deepseek-v2.5", "deepseek_v2", MOE, "DeepSeek-V2.5 (DeepSeek-V2 architecture)"},
      {"deepseek-coder-v2", "deepseek_v2", MOE, "DeepSeek-Coder-V2 (DeepSeek-V2 architecture)"},
      {"deepseek-v3", "deepseek_v3", MOE, "DeepSeek-V3 MoE (not in transformers 4.44.2)"},
      {"deepseek-r1", "deepseek_v3", MOE, "DeepSeek-R1 (DeepSeek-V3 architecture)"},
      {"deepseek-r1-distill-qwen", "qwen2", DO, "R1 distilled into a dense Qwen2"},
      {"deepseek-r1-distill-llama", "llama", DO, "R1 distilled into a dense LLaMA"},
      {"deepseek-coder", "llama", DO, "DeepSeek-Coder 1.x is a dense LLaMA-architecture model"},
      {"deepseek-llm", "llama", DO, "DeepSeek LLM is a dense LLaMA-architecture model"},
      {"deepseek-math", "llama", DO, "DeepSeek-Math is a dense LLaMA-architecture model"},
      {"deepseek-vl", "multi_modality", MM, "DeepSeek-VL vision-language model (remote code)"},
      {"switch-base", "switch_transformers", MOE, "Switch Transformers"},
      {"switch-large", "switch_transformers", MOE, "Switch Transformers"},
      {"switch-xxl", "switch_transformers", MOE, "Switch Transformers"},
      {"switch-c", "switch_transformers", MOE, "Switch Transformers"},
      {"phi-3.5-moe", "phimoe", MOE, "Phi-3.5-MoE (not in transformers 4.44.2)"},
      {"phi-3.5-mini", "phi3", DO, "Phi-3.5-mini uses the Phi-3 architecture"},
      {"phi-3-vision", "phi3_v", MM, "Phi-3-vision (remote code)"},
      {"phi-3.5-vision", "phi3_v", MM, "Phi-3.5-vision (remote code)"},
      {"grok", "grok-1", MOE, "Grok-1 MoE (remote code)"},
      {"arctic", "arctic", MOE, "Snowflake Arctic dense-MoE hybrid (remote code)"},
      {"falcon-mamba", "falcon_mamba", SS, "Falcon Mamba (model_type falcon_mamba arrived in transformers 4.45)"},
      {"mamba-codestral", "mamba2", SS, "Mamba-Codestral is a Mamba-2 model"},
      {"griffin", "recurrent_gemma", SS, "Griffin is the RecurrentGemma architecture"},
      {"rwkv-5", "rwkv5", SS, "RWKV-5 (remote code)"},
      {"rwkv-6", "rwkv6", SS, "RWKV-6 (remote code)"},
      {"rag-token", "rag", Family::Rag, "RAG-Token"},
      {"rag-sequence", "rag", Family::Rag, "RAG-Sequence"},
      {"nllb-moe", "nllb-moe", MOE, "NLLB mixture of experts"},
      {"nllb", "m2m_100", ED, "dense NLLB-200 checkpoints use model_type m2m_100"},
      {"gpt-j", "gptj", DO, "GPT-J"},
      {"pythia", "gpt_neox", DO, "Pythia uses GPT-NeoX"},
      {"dolly", "gpt_neox", DO, "Dolly v2 is Pythia-based (GPT-NeoX)"},
      {"starcoder", "gpt_bigcode", DO, "StarCoder 1 uses GPTBigCode"},
      {"starcoderbase", "gpt_bigcode", DO, "StarCoderBase uses GPTBigCode"},
      {"santacoder", "gpt_bigcode", DO, "SantaCoder uses GPTBigCode"},
      {"tinyllama", "llama", DO, "TinyLlama uses LLaMA"},
      {"codellama", "llama", DO, "Code Llama checkpoints use model_type llama"},
      {"vicuna", "llama", DO, "Vicuna is a LLaMA fine-tune"},
      {"zephyr", "mistral", DO, "Zephyr-7B is a Mistral fine-tune"},
      {"bloomz", "bloom", DO, "BLOOMZ is BLOOM"},
      {"flan-t5", "t5", ED, "Flan-T5 is T5"},
      {"flan-ul2", "t5", ED, "Flan-UL2 uses T5"},
      {"ul2", "t5", ED, "UL2 uses T5"},
      {"byt5", "t5", ED, "ByT5 uses T5"},
      {"sentence-t5", "t5", ED, "Sentence-T5 uses T5"},
      {"mt0", "mt5", ED, "mT0 is an mT5 fine-tune"},
      {"t0", "t5", ED, "T0 is a T5 fine-tune"},
      {"t0pp", "t5", ED, "T0++ is a T5 fine-tune"},
      {"t0p", "t5", ED, "T0+ is a T5 fine-tune"},
      {"opus-mt", "marian", ED, "OPUS-MT translation models are Marian"},
      {"galactica", "opt", DO, "Galactica uses OPT"},
      {"cerebras-gpt", "gpt2", DO, "Cerebras-GPT uses GPT-2"},
      {"yi", "llama", DO, "Yi uses the LLaMA architecture"},
      {"command-r", "cohere", DO, "Command-R is Cohere"},
      {"c4ai-command", "cohere", DO, "Command-R is Cohere"},
      {"codegemma", "gemma", DO, "CodeGemma is Gemma"},
      {"granite", "granite", DO, "IBM Granite (model_type granite arrived in transformers 4.45)"},
      {"e5", "bert", EO, "E5 English embedding models are BERT"},
      {"multilingual-e5", "xlm-roberta", EO, "multilingual E5 is XLM-RoBERTa"},
      {"long-t5", "longt5", ED, "LongT5"},
      {"distilgpt2", "gpt2", DO, "DistilGPT2 is GPT-2"},
      {"distilroberta", "roberta", EO, "DistilRoBERTa is RoBERTa"},
      {"deberta-v3", "deberta-v2", EO, "DeBERTa-v3 checkpoints use model_type deberta-v2"},
      {"mdeberta", "deberta-v2", EO, "mDeBERTa-v3 uses deberta-v2"},
      {"minilm", "bert", EO, "MiniLM sentence encoders are BERT"},
      {"all-minilm", "bert", EO, "all-MiniLM sentence encoders are BERT"},
      {"bge-m3", "xlm-roberta", EO, "BGE-M3 is XLM-RoBERTa"},
      {"bge", "bert", EO, "BGE embedding models are BERT"},
      {"scibert", "bert", EO, "SciBERT is BERT"},
      {"biobert", "bert", EO, "BioBERT is BERT"},
      {"pubmedbert", "bert", EO, "PubMedBERT is BERT"},
      {"finbert", "bert", EO, "FinBERT is BERT"},
      {"codebert", "roberta", EO, "CodeBERT is RoBERTa"},
      {"bertweet", "roberta", EO, "BERTweet is RoBERTa"},
      {"xlm-r", "xlm-roberta", EO, "XLM-R"},
      {"llava-v1.5", "llava", MM, "LLaVA 1.5"},
      {"llava-1.5", "llava", MM, "LLaVA 1.5"},
      {"llava-v1.6", "llava_next", MM, "LLaVA 1.6 is LLaVA-NeXT"},
      {"llava-1.6", "llava_next", MM, "LLaVA 1.6 is LLaVA-NeXT"},
      {"llava-onevision", "llava_onevision", MM, "LLaVA-OneVision (not in transformers 4.44.2)"},
      {"bakllava", "llava", MM, "BakLLaVA is LLaVA on Mistral"},
      {"vip-llava", "vipllava", MM, "ViP-LLaVA"},
      {"sam2", "sam2", DF, "SAM 2 (not in transformers 4.44.2)"},
      {"stable-diffusion", "", DF, "a diffusers pipeline (UNet + VAE + CLIP text encoder), no transformers model_type"},
      {"stable-video-diffusion", "", DF, "a diffusers pipeline"},
      {"sdxl", "", DF, "Stable Diffusion XL (diffusers)"},
      {"sd-turbo", "", DF, "SD-Turbo (diffusers)"},
      {"sd-xl", "", DF, "Stable Diffusion XL (diffusers)"},
      {"kandinsky", "", DF, "Kandinsky (diffusers)"},
      {"controlnet", "", DF, "ControlNet (diffusers)"},
      {"pixart", "", DF, "PixArt (diffusers)"},
      {"flux", "", DF, "FLUX (diffusers)"},
      {"ddpm", "", DF, "DDPM (diffusers)"},
      {"mms-tts", "vits", SP, "MMS text-to-speech uses VITS"},
      {"mms", "wav2vec2", SP, "MMS speech models use wav2vec2"},
      {"xls-r", "wav2vec2", SP, "XLS-R uses wav2vec2"},
      {"hf-seamless-m4t", "seamless_m4t", SP, "SeamlessM4T"},
      {"ast-finetuned", "audio-spectrogram-transformer", SP, "Audio Spectrogram Transformer"},
      {"mit-b", "segformer", VI, "MiT-b* are SegFormer encoders"},
      {"dino-vit", "vit", VI, "DINO v1 checkpoints are ViT"},
      {"detr-resnet", "detr", VI, "DETR with a ResNet backbone is DETR"},
      {"donut", "vision-encoder-decoder", VT, "Donut checkpoints are vision-encoder-decoder"},
      {"deplot", "pix2struct", VT, "DePlot uses Pix2Struct"},
      {"matcha", "pix2struct", VT, "MatCha uses Pix2Struct"},
  };
  return a;
}

// Organisation names that say what their models are when the name itself does not.
const std::vector<Alias>& org_hints() {
  static const std::vector<Alias> a = {
      {"state-spaces", "mamba", SS, "organisation state-spaces publishes Mamba"},
      {"distil-whisper", "whisper", SP, "organisation distil-whisper publishes Whisper"},
      {"meta-llama", "llama", DO, "organisation meta-llama publishes LLaMA"},
      {"mistralai", "mistral", DO, "organisation mistralai publishes Mistral"},
      {"tiiuae", "falcon", DO, "organisation tiiuae publishes Falcon"},
      {"bigscience", "bloom", DO, "organisation bigscience publishes BLOOM"},
      {"ai21labs", "jamba", SS, "organisation ai21labs publishes Jamba"},
      {"llava-hf", "llava", MM, "organisation llava-hf publishes LLaVA"},
      {"runwayml", "", DF, "organisation runwayml publishes Stable Diffusion"},
      {"compvis", "", DF, "organisation CompVis publishes Stable Diffusion"},
      {"sentence-transformers", "bert", EO, "most sentence-transformers encoders are BERT"},
  };
  return a;
}

// Registry entries that are sub-configurations or generic compositions: hub names
// never denote them ("maskformer-swin-base-ade" is a MaskFormer checkpoint).
const std::set<std::string>& not_name_matched() {
  static const std::set<std::string> s = {"chinese_clip_vision_model", "clip_vision_model", "siglip_vision_model",
                                          "maskformer-swin",           "donut-swin",        "rt_detr_resnet",
                                          "timm_backbone",             "encoder-decoder",   "vision-encoder-decoder",
                                          "speech-encoder-decoder",    "vision-text-dual-encoder"};
  return s;
}

// Dense decoder model type -> its sparse-expert sibling, for MoE markers.
const char* moe_sibling(const std::string& t) {
  if (t == "qwen2") return "qwen2_moe";
  if (t == "mistral") return "mixtral";
  if (t == "olmo") return "olmoe";
  if (t == "phi3") return "phimoe";
  if (t == "granite") return "granitemoe";
  return "";
}

struct Pattern {
  std::string text;
  std::string model_type;
  Family family;
  bool alias;        // hand-written, not generated from the registry
  std::string why;
};

void add_pattern(std::vector<Pattern>& out, std::set<std::string>& seen, const std::string& text, const Pattern& p) {
  if (text.empty() || !seen.insert(text).second) return;
  Pattern q = p;
  q.text = text;
  out.push_back(q);
}

// Spellings of one pattern: as written, without '-', and with '-' before a trailing
// version number (phi3 -> phi-3, qwen2 -> qwen2 stays for qwen2 checkpoints too).
std::vector<std::string> spellings(const std::string& base) {
  std::vector<std::string> v{base};
  std::string nodash;
  for (char c : base)
    if (c != '-') nodash.push_back(c);
  v.push_back(nodash);
  size_t i = base.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(base[i - 1]))) --i;
  if (i > 0 && i < base.size() && std::isalpha(static_cast<unsigned char>(base[i - 1])))
    v.push_back(base.substr(0, i) + "-" + base.substr(i));
  return v;
}

const std::vector<Pattern>& patterns() {
  static const std::vector<Pattern> all = [] {
    std::vector<Pattern> out;
    std::set<std::string> seen;
    // Aliases first so that, for the same spelling, the hand-written meaning wins.
    for (const auto& a : aliases())
      for (const auto& s : spellings(a.text)) add_pattern(out, seen, s, {"", a.model_type, a.family, true, a.why});
    for (const auto& e : model_type_table()) {
      if (not_name_matched().count(e.model_type)) continue;
      std::string why = std::string("registry model_type ") + e.model_type;
      for (const auto& s : spellings(detail::normalise_name(e.model_type)))
        add_pattern(out, seen, s, {"", e.model_type, e.family, false, why});
    }
    return out;
  }();
  return all;
}

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Occurrences of `pat` in `s` that sit on word boundaries (see detect.h, rule 2).
std::vector<size_t> boundary_matches(const std::string& s, const std::string& pat) {
  std::vector<size_t> r;
  for (size_t pos = s.find(pat); pos != std::string::npos; pos = s.find(pat, pos + 1)) {
    if (pos > 0 && is_alnum(s[pos - 1])) continue;
    size_t e = pos + pat.size();
    if (e < s.size()) {
      char c = s[e];
      if (is_alpha(c)) continue;
      if (is_digit(pat.back()) && (is_digit(c) || c == '.')) continue;
    }
    r.push_back(pos);
  }
  return r;
}

struct Candidate {
  const Pattern* p;
  size_t pos;
};

bool better(const Candidate& a, const Candidate& b) {
  bool a0 = a.pos == 0, b0 = b.pos == 0;
  if (a0 != b0) return a0;
  if (a.p->text.size() != b.p->text.size()) return a.p->text.size() > b.p->text.size();
  if (a.p->alias != b.p->alias) return a.p->alias;
  return a.pos < b.pos;
}

std::string fmt_conf(double c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", c);
  return buf;
}

void set_type(Detection& d, const std::string& model_type, Family fallback_family) {
  d.model_type = model_type;
  d.info = model_type.empty() ? nullptr : find_model_type(model_type);
  d.family_known = true;
  d.family = d.info ? d.info->family : fallback_family;
  if (!model_type.empty() && !d.info)
    d.notes.push_back("model_type '" + model_type + "' is not in transformers 4.44.2 (newer release or remote code)");
}

// Rule 4: sparse-expert markers in the name.
bool moe_marker(const std::string& s, std::string* which) {
  static const std::regex experts_x_size("(^|[^a-z0-9])[0-9]+x[0-9]+(\\.[0-9]+)?b($|[^a-z])");
  static const std::regex active_params("-a[0-9]+(\\.[0-9]+)?[bm]($|[^a-z])");
  if (!boundary_matches(s, "moe").empty()) {
    *which = "token \"moe\"";
    return true;
  }
  if (std::regex_search(s, experts_x_size)) {
    *which = "experts-x-size suffix (e.g. 8x7b)";
    return true;
  }
  if (std::regex_search(s, active_params)) {
    *which = "active-parameter suffix (e.g. -a2.7b, -a400m)";
    return true;
  }
  return false;
}

}  // namespace

namespace detail {

std::string normalise_name(const std::string& s) {
  std::string r;
  r.reserve(s.size());
  for (char c : s) {
    if (c == '_' || std::isspace(static_cast<unsigned char>(c))) r.push_back('-');
    else r.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return r;
}

std::string class_name_stem(const std::string& arch) {
  // The head starts at the first "For" that begins a new CamelCase word.
  for (size_t i = 1; i + 3 < arch.size(); ++i)
    if (arch.compare(i, 3, "For") == 0 && std::isupper(static_cast<unsigned char>(arch[i + 3])))
      return normalise_name(arch.substr(0, i));
  static const char* suffixes[] = {"WithLMHeadModel", "ModelWithLMHead", "LMHeadModel", "EncoderModel",
                                   "ContextEncoder",  "QuestionEncoder", "Reader",      "MTModel",
                                   "Backbone",        "Encoder",         "Decoder",     "Model"};
  for (const char* suf : suffixes) {
    std::string s(suf);
    if (arch.size() > s.size() && arch.compare(arch.size() - s.size(), s.size(), s) == 0)
      return normalise_name(arch.substr(0, arch.size() - s.size()));
  }
  return normalise_name(arch);
}

bool match_model_name(const std::string& s, Detection& d) {
  std::vector<Candidate> cands;
  for (const auto& p : patterns())
    for (size_t pos : boundary_matches(s, p.text)) cands.push_back({&p, pos});
  std::string marker;
  bool moe = moe_marker(s, &marker);
  if (cands.empty()) {
    if (!moe) return false;
    d.family_known = true;
    d.family = Family::MixtureOfExperts;
    d.confidence = 0.5;
    d.rule = "sparse-expert marker " + marker + " with no known architecture in the name";
    return true;
  }
  Candidate best = cands.front();
  for (const auto& c : cands)
    if (better(c, best)) best = c;
  const Pattern& p = *best.p;
  set_type(d, p.model_type, p.family);
  if (s == p.text) d.confidence = 0.95;
  else if (best.pos == 0) d.confidence = p.alias ? 0.9 : 0.85;
  else d.confidence = 0.65;
  d.rule = std::string(p.alias ? "alias" : "model-type name") + " \"" + p.text + "\" " +
           (best.pos == 0 ? "at the start of the name" : "inside the name") + " -> " +
           (p.model_type.empty() ? family_name(d.family) : p.model_type) + " (" + p.why + ")";
  for (const auto& c : cands)
    if (c.p != best.p && c.p->model_type != p.model_type && !c.p->model_type.empty()) {
      d.notes.push_back("also matched \"" + c.p->text + "\" (" + c.p->model_type + "), less specific");
      break;
    }
  if (moe && d.family == Family::DecoderOnly) {
    std::string sib = moe_sibling(d.model_type);
    std::string dense = d.model_type;
    d.notes.clear();
    set_type(d, sib, Family::MixtureOfExperts);
    d.family = Family::MixtureOfExperts;  // a marker beats the dense family even for unknown siblings
    d.confidence = std::min(d.confidence, 0.7);
    d.rule += "; sparse-expert marker " + marker + " turns dense " + dense + " into mixture-of-experts" +
              (sib[0] ? std::string(" (") + sib + ")" : std::string());
  }
  d.rule += " [confidence " + fmt_conf(d.confidence) + "]";
  return true;
}

}  // namespace detail

Detection detect_from_name(const std::string& raw) {
  Detection d;
  d.input = raw;
  d.source = "name";
  std::string s = detail::normalise_name(raw);
  for (const char* prefix : {"https://huggingface.co/", "http://huggingface.co/", "hf://", "huggingface.co/"})
    if (s.rfind(prefix, 0) == 0) s = s.substr(std::string(prefix).size());
  while (!s.empty() && s.back() == '/') s.pop_back();
  std::string org, name = s;
  if (auto slash = s.rfind('/'); slash != std::string::npos) {
    name = s.substr(slash + 1);
    std::string head = s.substr(0, slash);
    auto prev = head.rfind('/');
    org = prev == std::string::npos ? head : head.substr(prev + 1);
  }
  if (!detail::match_model_name(name, d) && !org.empty()) {
    // Rule 5: the organisation.
    for (const auto& h : org_hints())
      if (org == h.text) {
        set_type(d, h.model_type, h.family);
        d.confidence = 0.5;
        d.rule = std::string("organisation \"") + org + "\" -> " +
                 (d.model_type.empty() ? family_name(d.family) : d.model_type) + " (" + h.why + ") [confidence 0.50]";
        break;
      }
    if (!d.family_known && detail::match_model_name(org, d)) {
      d.confidence = std::min(d.confidence, 0.5);
      d.rule = "from the organisation name: " + d.rule;
    }
  }
  if (!d.family_known) {
    d.rule = "no known architecture, alias or organisation in \"" + raw + "\"";
    d.confidence = 0.0;
    return d;
  }
  d.task = d.info ? d.info->default_task : family_default_task(d.family);
  if (d.family == Family::Diffusion && !d.info) d.task = "text-to-image";
  return d;
}

}  // namespace ia
