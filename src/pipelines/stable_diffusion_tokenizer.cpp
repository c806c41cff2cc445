#include "pipelines/stable_diffusion_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "tokenizers/tokenizer.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  IA_CHECK(in.good(), p.string(), ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const fs::path& p) {
  try {
    return json::parse(read_text(p));
  } catch (const json::exception& e) {
    fail(p.string(), ": malformed JSON: ", e.what());
  }
}

// A special token entry of tokenizer_config / special_tokens_map: a string or {"content": ...}.
std::string token_text(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

struct ClipFiles {
  json vocab;
  std::vector<std::string> merges;
  json config = json::object(), special = json::object();
};

ClipFiles read_clip_files(const std::string& dir) {
  ClipFiles f;
  const fs::path d(dir);
  f.vocab = read_json(d / "vocab.json");
  IA_CHECK(f.vocab.is_object() && !f.vocab.empty(), (d / "vocab.json").string(), ": expected an object token -> id");
  for (auto it = f.vocab.begin(); it != f.vocab.end(); ++it)
    IA_CHECK(it.value().is_number_integer() && it.value().get<int64_t>() >= 0, (d / "vocab.json").string(),
             ": id of '", it.key(), "' is not a non-negative integer");
  // CLIPTokenizer: merges_file.read().strip().split("\n")[1 : 49152 - 256 - 2 + 1]
  std::string text = read_text(d / "merges.txt");
  const auto first = text.find_first_not_of(" \t\r\n\f\v");
  const auto last = text.find_last_not_of(" \t\r\n\f\v");
  text = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  const size_t end = std::min<size_t>(lines.size(), 49152 - 256 - 2 + 1);
  for (size_t i = 1; i < end; ++i) {
    std::istringstream ls(lines[i]);
    std::string a, b, extra;
    ls >> a >> b;
    IA_CHECK(!a.empty() && !b.empty() && !(ls >> extra), (d / "merges.txt").string(), ": line ", i + 1,
             " is not a pair of symbols");
    f.merges.push_back(a + " " + b);
  }
  if (fs::exists(d / "tokenizer_config.json")) f.config = read_json(d / "tokenizer_config.json");
  if (fs::exists(d / "special_tokens_map.json")) f.special = read_json(d / "special_tokens_map.json");
  return f;
}

std::string special(const ClipFiles& f, const char* key, const std::string& def) {
  std::string v = token_text(f.config, key);
  if (v.empty()) v = token_text(f.special, key);
  return v.empty() ? def : v;
}

int64_t vocab_id(const ClipFiles& f, const std::string& tok, const std::string& dir) {
  if (f.vocab.contains(tok)) return f.vocab[tok].get<int64_t>();
  // Added tokens outside the vocabulary (tokenizer_config's added_tokens_decoder).
  if (f.config.contains("added_tokens_decoder") && f.config["added_tokens_decoder"].is_object())
    for (auto it = f.config["added_tokens_decoder"].begin(); it != f.config["added_tokens_decoder"].end(); ++it)
      if (token_text(json{{"t", it.value()}}, "t") == tok) return std::stoll(it.key());
  fail(dir, ": special token '", tok, "' is neither in vocab.json nor an added token");
}

json converted(const ClipFiles& f, const std::string& dir) {
  const std::string bos = special(f, "bos_token", "<|startoftext|>");
  const std::string eos = special(f, "eos_token", "<|endoftext|>");
  const std::string unk = special(f, "unk_token", "<|endoftext|>");
  json t;
  t["version"] = "1.0";
  t["truncation"] = nullptr;
  t["padding"] = nullptr;
  json added = json::array();
  if (f.config.contains("added_tokens_decoder") && f.config["added_tokens_decoder"].is_object()) {
    for (auto it = f.config["added_tokens_decoder"].begin(); it != f.config["added_tokens_decoder"].end(); ++it) {
      const json& e = it.value();
      IA_CHECK(e.is_object() && e.contains("content") && e["content"].is_string(), dir,
               "/tokenizer_config.json: added_tokens_decoder[", it.key(), "] has no content");
      added.push_back({{"id", std::stoll(it.key())},
                       {"content", e["content"]},
                       {"single_word", e.value("single_word", false)},
                       {"lstrip", e.value("lstrip", false)},
                       {"rstrip", e.value("rstrip", false)},
                       {"normalized", e.value("normalized", true)},
                       {"special", e.value("special", true)}});
    }
  } else {
    // Older tokenizer folders: the special tokens are added as special tokens.
    std::vector<std::string> seen;
    for (const std::string& s : {bos, eos, unk}) {
      if (std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
      seen.push_back(s);
      added.push_back({{"id", vocab_id(f, s, dir)},
                       {"content", s},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", true},
                       {"special", true}});
    }
  }
  t["added_tokens"] = added;
  t["normalizer"] = {{"type", "Sequence"},
                     {"normalizers",
                      json::array({{{"type", "NFC"}},
                                   {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}},
                                   {{"type", "Lowercase"}}})}};
  t["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       json::array({{{"type", "Split"},
                     {"pattern", {{"Regex", "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"}}},
                     {"behavior", "Removed"},
                     {"invert", true}},
                    {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}}})}};
  t["post_processor"] = {{"type", "RobertaProcessing"},
                         {"sep", json::array({eos, vocab_id(f, eos, dir)})},
                         {"cls", json::array({bos, vocab_id(f, bos, dir)})},
                         {"trim_offsets", false},
                         {"add_prefix_space", false}};
  t["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}};
  t["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", unk},
                {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", "</w>"},
                {"fuse_unk", false},
                {"vocab", f.vocab},
                {"merges", f.merges}};
  return t;
}

}  // namespace

std::string clip_tokenizer_json_from_files(const std::string& dir) { return converted(read_clip_files(dir), dir).dump(); }

PromptTokenizer::PromptTokenizer(PromptTokenizer&&) noexcept = default;
PromptTokenizer& PromptTokenizer::operator=(PromptTokenizer&&) noexcept = default;
PromptTokenizer::~PromptTokenizer() = default;

PromptTokenizer PromptTokenizer::load(const std::string& dir) {
  IA_CHECK(fs::is_directory(dir), dir, ": tokenizer directory is missing");
  PromptTokenizer p;
  const fs::path d(dir);
  std::string pad;
  if (fs::exists(d / "vocab.json") && fs::exists(d / "merges.txt")) {
    const ClipFiles f = read_clip_files(dir);
    p.tok_ = std::make_unique<Tokenizer>(Tokenizer::from_json_string(converted(f, dir).dump(), dir + "/vocab.json"));
    pad = special(f, "pad_token", special(f, "eos_token", "<|endoftext|>"));
    if (f.config.contains("model_max_length") && f.config["model_max_length"].is_number())
      p.model_max_length_ = int64_t(f.config["model_max_length"].get<double>());
  } else {
    IA_CHECK(fs::exists(d / "tokenizer.json"), dir, ": has neither vocab.json + merges.txt nor tokenizer.json");
    p.tok_ = std::make_unique<Tokenizer>(Tokenizer::from_dir(dir));
    pad = p.tok_->pad_token.empty() ? p.tok_->eos_token : p.tok_->pad_token;
    if (fs::exists(d / "tokenizer_config.json")) {
      const json c = read_json(d / "tokenizer_config.json");
      if (c.contains("model_max_length") && c["model_max_length"].is_number())
        p.model_max_length_ = int64_t(c["model_max_length"].get<double>());
    }
  }
  IA_CHECK(p.model_max_length_ >= 2 && p.model_max_length_ <= 4096, dir, "/tokenizer_config.json: model_max_length ",
           p.model_max_length_, " out of range");
  const auto id = p.tok_->token_to_id(pad);
  IA_CHECK(id.has_value(), dir, ": pad token '", pad, "' is not in the vocabulary");
  p.pad_id_ = *id;
  return p;
}

std::vector<int64_t> PromptTokenizer::encode_padded(const std::string& text, int64_t max_length,
                                                    std::vector<int64_t>* attention_mask) const {
  IA_CHECK(max_length >= 2, "prompt max_length ", max_length, " is too small");
  TruncationParams tr;
  tr.max_length = size_t(max_length);
  Tokenizer& t = *tok_;
  t.set_truncation(tr);
  PaddingParams pp;
  pp.fixed_length = size_t(max_length);
  pp.pad_id = pad_id_;
  if (auto tok = t.id_to_token(pad_id_)) pp.pad_token = *tok;
  t.set_padding(pp);
  const Encoding e = t.encode_batch({text}, true).at(0);
  std::vector<int64_t> ids(e.ids.begin(), e.ids.end());
  IA_CHECK(int64_t(ids.size()) == max_length, "tokenizer produced ", ids.size(), " ids, expected ", max_length);
  if (attention_mask) attention_mask->assign(e.attention_mask.begin(), e.attention_mask.end());
  return ids;
}

}  // namespace ia
