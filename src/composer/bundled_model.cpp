#include "composer/bundled_model.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/hf_config.h"
#include "pipelines/text_generation.h"
#include "templates/model.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

json read_json(const fs::path& p) {
  std::ifstream in(p);
  IA_CHECK(in.good(), p.string(), ": cannot open");
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    fail(p.string(), ": malformed JSON: ", e.what());
  }
}

// Row 0 of an integer input of a case, keeping positions whose attention_mask is 1.
std::vector<int64_t> row0(const json& c, const std::string& where) {
  const json& in = c.at("inputs");
  IA_CHECK(in.contains("input_ids") && in["input_ids"].contains("values"), where, ": case '", c.value("name", "?"),
           "' has no inline input_ids values");
  const json& ids = in["input_ids"]["values"];
  IA_CHECK(ids.is_array() && !ids.empty() && ids[0].is_array(), where, ": input_ids.values is not a [B, T] list");
  std::vector<int64_t> r;
  const json* mask = in.contains("attention_mask") && in["attention_mask"].contains("values") ? &in["attention_mask"]["values"][0] : nullptr;
  for (size_t t = 0; t < ids[0].size(); ++t)
    if (!mask || (*mask)[t].get<int64_t>() != 0) r.push_back(ids[0][t].get<int64_t>());
  return r;
}

std::string word(const BundledModel& m, int64_t id) {
  if (auto it = m.special_words.find(id); it != m.special_words.end()) return it->second;
  if (id == m.mask_id) return "[MASK]";
  std::string w = "w";
  return w += std::to_string(id);
}

}  // namespace

std::vector<std::string> bundled_fixture_dirs(const std::string& models_root, const std::string& model_type) {
  std::vector<std::string> r;
  fs::path base = fs::path(models_root) / model_type;
  if (!fs::is_directory(base)) return r;
  for (const auto& e : fs::directory_iterator(base)) {
    if (!e.is_directory() || !fs::exists(e.path() / "reference.json") || !fs::exists(e.path() / "config.json")) continue;
    // HFConfig: config.json may hold Python-style Infinity / NaN.
    HFConfig cfg = HFConfig::load((e.path() / "config.json").string());
    if (cfg.get_string("model_type", "") == model_type) r.push_back(e.path().string());
  }
  std::sort(r.begin(), r.end());
  return r;
}

BundledModel read_bundled_model(const std::string& dir) {
  BundledModel m;
  m.fixture_dir = dir;
  ModelContext ctx = ModelContext::open(dir);
  m.model_type = ctx.model_type;
  m.architecture = ctx.architecture;
  const std::string ref_path = (fs::path(dir) / "reference.json").string();
  json ref = read_json(ref_path);
  IA_CHECK(ref.contains("cases") && ref["cases"].is_array(), ref_path, ": no cases list");
  int64_t max_id = 0;
  for (const auto& c : ref["cases"]) {
    if (!c.contains("inputs") || !c["inputs"].contains("input_ids") || !c["inputs"]["input_ids"].contains("values")) continue;
    bool text_only = true;  // a generate case on token ids alone (not LLaVA's / BLIP's pixels)
    for (auto it = c["inputs"].begin(); it != c["inputs"].end(); ++it)
      text_only = text_only && (it.key() == "input_ids" || it.key() == "attention_mask");
    if (c.contains("generation")) {
      if (!m.prompt_ids.empty() || !text_only) continue;
      m.prompt_ids = row0(c, ref_path);
      const json& g = c["generation"];
      IA_CHECK(g.contains("new_token_ids") && g["new_token_ids"].is_array() && !g["new_token_ids"].empty(), ref_path,
               ": generation.new_token_ids missing in case '", c.value("name", "?"), "'");
      m.expected_new_ids = g["new_token_ids"][0].get<std::vector<int64_t>>();
      m.max_new_tokens = g.value("max_new_tokens", int64_t(m.expected_new_ids.size()));
    } else if (m.forward_ids.empty() && c.value("name", "") == "forward") {
      m.forward_ids = row0(c, ref_path);
    }
    for (const auto& row : c["inputs"]["input_ids"]["values"])
      for (const auto& v : row) max_id = std::max(max_id, v.get<int64_t>());
  }
  if (m.forward_ids.empty()) m.forward_ids = m.prompt_ids;
  int64_t config_vocab = ctx.config.has("text_config") ? ctx.config.sub("text_config").get_int("vocab_size", 0) : 0;
  // RAG: one word-level tokenizer serves the question encoder and the generator.
  for (const char* sub : {"question_encoder", "generator"})
    if (m.model_type == "rag" && ctx.config.has(sub))
      config_vocab = std::max(config_vocab, ctx.config.sub(sub).get_int("vocab_size", 0));
  m.vocab = std::max({ctx.config.get_int("vocab_size", 0), config_vocab, max_id + 1});
  for (int64_t id : m.expected_new_ids) m.vocab = std::max(m.vocab, id + 1);
  // Image / audio models may have no token inputs at all.
  m.mask_id = m.forward_ids.empty() ? -1 : m.forward_ids[std::min<size_t>(2, m.forward_ids.size() - 1)];
  if (m.model_type == "llava") {
    m.special_words[ctx.config.get_int("image_token_index", 32000)] = "<image>";
    m.mask_id = -1;
  }
  if (m.model_type == "clip") {
    const HFConfig text = ctx.config.sub("text_config");
    const int64_t bos = text.get_int("bos_token_id", 49406), eos = text.get_int("eos_token_id", 49407);
    m.special_words[bos] = "<|startoftext|>";
    m.special_words[eos] = "<|endoftext|>";
    m.bos_eos = {bos, eos};
    m.mask_id = -1;
  }
  // The pipeline stops at EOS; transformers' reference may have run past it (eos_stops false).
  auto eos = generation_defaults(ctx.generation_config, ctx.config).eos_token_ids;
  for (size_t i = 0; i < m.expected_new_ids.size(); ++i)
    if (std::find(eos.begin(), eos.end(), m.expected_new_ids[i]) != eos.end()) {
      m.expected_new_ids.resize(i + 1);
      break;
    }
  return m;
}

void write_runnable_copy(const BundledModel& m, const std::string& dst_dir) {
  fs::path src(m.fixture_dir), dst(dst_dir);
  fs::create_directories(dst);
  for (const auto& e : fs::directory_iterator(src)) {
    std::string name = e.path().filename().string();
    bool weights = name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0 && name != "reference.safetensors";
    if (name == "config.json" || name == "generation_config.json" || name == "model.safetensors.index.json" || weights)
      fs::copy_file(e.path(), dst / name, fs::copy_options::overwrite_existing);
  }
  json vocab = json::object();
  for (int64_t i = 0; i < m.vocab; ++i) vocab[word(m, i)] = i;
  json added = json::array(), post = nullptr;
  for (const auto& [id, w] : m.special_words)
    added.push_back({{"id", id}, {"content", w}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", true}});
  if (m.bos_eos.size() == 2) {
    const std::string bos = word(m, m.bos_eos[0]), eos = word(m, m.bos_eos[1]);
    json single = json::array({{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                               {{"SpecialToken", {{"id", eos}, {"type_id", 0}}}}});
    json pair = single;
    pair.push_back({{"Sequence", {{"id", "B"}, {"type_id", 1}}}});
    post = {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair},
            {"special_tokens", {{bos, {{"id", bos}, {"ids", {m.bos_eos[0]}}, {"tokens", {bos}}}},
                                {eos, {{"id", eos}, {"ids", {m.bos_eos[1]}}, {"tokens", {eos}}}}}}};
  }
  json tok = {{"version", "1.0"},
              {"truncation", nullptr},
              {"padding", nullptr},
              {"added_tokens", added},
              {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
              {"post_processor", post},
              {"decoder", nullptr},
              {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", word(m, 0)}}}};
  std::ofstream out(dst / "tokenizer.json");
  out << tok.dump();
  IA_CHECK(out.good(), (dst / "tokenizer.json").string(), ": cannot write");
  out.close();
  write_media_files(m, dst_dir);
}

std::string spell_ids(const BundledModel& m, const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) {
    s += s.empty() ? "" : " ";
    s += word(m, id);
  }
  return s;
}

std::string probe_text(const BundledModel& m, const std::string& task) {
  const bool generation = task == "text-generation" || task == "text2text-generation" || task == "summarization" ||
                          task == "translation";
  if (generation && !m.prompt_ids.empty()) return spell_ids(m, m.prompt_ids);
  return spell_ids(m, m.forward_ids);
}

}  // namespace ia
