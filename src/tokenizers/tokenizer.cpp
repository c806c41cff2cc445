#include "tokenizers/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <exception>
#include <algorithm>

#include "tokenizers/added_vocabulary.h"
#include "tokenizers/decoders.h"
#include "tokenizers/json_util.h"
#include "tokenizers/models.h"
#include "tokenizers/normalizers.h"
#include "tokenizers/post_processors.h"
#include "tokenizers/pre_tokenizers.h"

namespace ia {

using namespace tok;

struct Tokenizer::Impl {
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Model> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  AddedVocabulary added;
  std::optional<TruncationParams> truncation;
  std::optional<PaddingParams> padding;

  Encoding encode_single(const std::string& text, uint32_t type_id) const {
    PreTokenizedString p = added.extract_and_normalize(normalizer.get(), text);
    if (pre_tokenizer) pre_tokenizer->pre_tokenize(p);
    auto fn = [this](const std::string& s) { return model->tokenize(s); };
    if (truncation && (truncation->strategy != TruncationStrategy::OnlySecond || type_id != 0))
      p.tokenize_with_limit(fn, truncation->max_length, truncation->direction);
    else
      p.tokenize(fn);
    return std::move(p).into_encoding(std::nullopt, type_id);
  }

  Encoding post_process(Encoding enc, std::optional<Encoding> pair, bool add_special) const {
    if (truncation) {
      size_t n_added = post_processor ? post_processor->added_tokens(pair.has_value()) : 0;
      TruncationParams t = *truncation;
      if (add_special && n_added > 0) {
        IA_CHECK(t.max_length >= n_added, "truncation: max_length ", t.max_length,
                 " is smaller than the number of special tokens added (", n_added, ")");
        t.max_length -= n_added;
      }
      truncate_encodings(enc, pair ? &*pair : nullptr, t);
    }
    Encoding out = post_processor ? post_processor->process(std::move(enc), pair ? &*pair : nullptr, add_special)
                                  : default_post_process(std::move(enc), pair ? &*pair : nullptr);
    if (padding) {
      std::vector<Encoding> one;
      one.push_back(std::move(out));
      pad_encodings(one, *padding);
      out = std::move(one[0]);
    }
    return out;
  }
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  IA_CHECK(f.good(), "cannot open ", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TruncationParams truncation_from_json(const json& j, const JPath& p) {
  TruncationParams t;
  int64_t ml = jint(j, "max_length", p);
  if (ml < 0) json_fail(p / "max_length", "must not be negative");
  t.max_length = size_t(ml);
  int64_t st = jint_or(j, "stride", 0, p);
  if (st < 0) json_fail(p / "stride", "must not be negative");
  t.stride = size_t(st);
  std::string s = jstr_or(j, "strategy", "LongestFirst", p);
  if (s == "LongestFirst") t.strategy = TruncationStrategy::LongestFirst;
  else if (s == "OnlyFirst") t.strategy = TruncationStrategy::OnlyFirst;
  else if (s == "OnlySecond") t.strategy = TruncationStrategy::OnlySecond;
  else json_fail(p / "strategy", "unknown truncation strategy '" + s + "'");
  std::string d = jstr_or(j, "direction", "Right", p);
  if (d == "Right") t.direction = TruncationDirection::Right;
  else if (d == "Left") t.direction = TruncationDirection::Left;
  else json_fail(p / "direction", "unknown truncation direction '" + d + "'");
  return t;
}

PaddingParams padding_from_json(const json& j, const JPath& p) {
  PaddingParams pp;
  if (jhas(j, "strategy")) {
    const json& s = j["strategy"];
    if (s.is_object() && s.contains("Fixed")) {
      if (!s["Fixed"].is_number_integer()) json_fail(p / "strategy" / "Fixed", "expected an integer");
      pp.fixed_length = s["Fixed"].get<size_t>();
    } else if (!(s.is_string() && s.get<std::string>() == "BatchLongest")) {
      json_fail(p / "strategy", "expected \"BatchLongest\" or {\"Fixed\": n}");
    }
  }
  std::string d = jstr_or(j, "direction", "Right", p);
  if (d == "Right") pp.direction = PaddingDirection::Right;
  else if (d == "Left") pp.direction = PaddingDirection::Left;
  else json_fail(p / "direction", "unknown padding direction '" + d + "'");
  if (jhas(j, "pad_to_multiple_of")) pp.pad_to_multiple_of = size_t(jint(j, "pad_to_multiple_of", p));
  pp.pad_id = uint32_t(jint_or(j, "pad_id", 0, p));
  pp.pad_type_id = uint32_t(jint_or(j, "pad_type_id", 0, p));
  pp.pad_token = jstr_or(j, "pad_token", "[PAD]", p);
  return pp;
}

// tokenizer_config.json values are strings or {"content": ...} objects.
std::string token_field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

}  // namespace

Tokenizer Tokenizer::from_json_string(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    fail(source, ": invalid JSON: ", e.what());
  }
  JPath root{source, "$"};
  if (!j.is_object()) json_fail(root, "expected a JSON object");
  if (jhas(j, "version") && !(j["version"].is_string() && j["version"].get<std::string>() == "1.0"))
    json_fail(root / "version", "unknown tokenizer version");
  auto impl = std::make_unique<Impl>();
  impl->normalizer = normalizer_from_json(j.value("normalizer", json()), root / "normalizer");
  impl->pre_tokenizer = pre_tokenizer_from_json(j.value("pre_tokenizer", json()), root / "pre_tokenizer");
  impl->model = model_from_json(jreq(j, "model", root), root / "model");
  impl->post_processor = post_processor_from_json(j.value("post_processor", json()), root / "post_processor");
  impl->decoder = decoder_from_json(j.value("decoder", json()), root / "decoder");
  if (jhas(j, "truncation")) impl->truncation = truncation_from_json(j["truncation"], root / "truncation");
  if (jhas(j, "padding")) impl->padding = padding_from_json(j["padding"], root / "padding");
  std::vector<AddedToken> added;
  if (jhas(j, "added_tokens")) {
    const json& arr = j["added_tokens"];
    JPath ap = root / "added_tokens";
    if (!arr.is_array()) json_fail(ap, "expected an array");
    for (size_t i = 0; i < arr.size(); ++i) {
      const json& t = arr[i];
      JPath tp = ap[i];
      AddedToken a;
      a.content = jstr(t, "content", tp);
      a.single_word = jbool_or(t, "single_word", false, tp);
      a.lstrip = jbool_or(t, "lstrip", false, tp);
      a.rstrip = jbool_or(t, "rstrip", false, tp);
      a.special = jbool_or(t, "special", false, tp);
      a.normalized = jbool_or(t, "normalized", !a.special, tp);
      if (!uni::is_valid_utf8(a.content)) json_fail(tp / "content", "invalid UTF-8");
      added.push_back(std::move(a));
    }
  }
  impl->added.add_tokens(added, *impl->model, impl->normalizer.get());
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_file(const std::string& path) { return from_json_string(read_file(path), path); }

Tokenizer Tokenizer::from_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  Tokenizer t = from_file((fs::path(dir) / "tokenizer.json").string());
  for (const char* name : {"special_tokens_map.json", "tokenizer_config.json"}) {
    fs::path p = fs::path(dir) / name;
    if (!fs::exists(p)) continue;
    json j;
    try {
      j = json::parse(read_file(p.string()));
    } catch (const json::exception& e) {
      fail(p.string(), ": invalid JSON: ", e.what());
    }
    // tokenizer_config.json (read last) wins over special_tokens_map.json.
    for (auto [key, field] : {std::pair{"bos_token", &t.bos_token}, std::pair{"eos_token", &t.eos_token},
                              std::pair{"pad_token", &t.pad_token}, std::pair{"unk_token", &t.unk_token},
                              std::pair{"sep_token", &t.sep_token}, std::pair{"cls_token", &t.cls_token},
                              std::pair{"mask_token", &t.mask_token}}) {
      std::string v = token_field(j, key);
      if (!v.empty()) *field = v;
    }
    if (j.is_object() && j.contains("additional_special_tokens") && j["additional_special_tokens"].is_array()) {
      t.additional_special_tokens.clear();
      for (const auto& e : j["additional_special_tokens"]) {
        json one = {{"x", e}};
        std::string v = token_field(one, "x");
        if (!v.empty()) t.additional_special_tokens.push_back(v);
      }
    }
    if (j.is_object() && j.contains("chat_template")) {
      const json& ct = j["chat_template"];
      t.chat_templates.clear();
      if (ct.is_string()) {
        t.chat_templates.emplace_back("default", ct.get<std::string>());
      } else if (ct.is_array()) {
        for (size_t i = 0; i < ct.size(); ++i) {
          const json& e = ct[i];
          if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !e.contains("template") ||
              !e["template"].is_string())
            fail(p.string(), ": chat_template[", i, "]: expected {\"name\": string, \"template\": string}");
          t.chat_templates.emplace_back(e["name"].get<std::string>(), e["template"].get<std::string>());
        }
      } else if (!ct.is_null()) {
        fail(p.string(), ": chat_template: expected a string or a list of {name, template}");
      }
      t.chat_template.clear();
      for (const auto& [name, tmpl] : t.chat_templates)
        if (name == "default") t.chat_template = tmpl;
    }
  }
  return t;
}

Encoding Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  std::string clean = uni::is_valid_utf8(text) ? text : uni::sanitize_utf8(text);
  return impl_->post_process(impl_->encode_single(clean, 0), std::nullopt, add_special_tokens);
}

Encoding Tokenizer::encode_pair(const std::string& text, const std::string& pair, bool add_special_tokens) const {
  std::string a = uni::is_valid_utf8(text) ? text : uni::sanitize_utf8(text);
  std::string b = uni::is_valid_utf8(pair) ? pair : uni::sanitize_utf8(pair);
  Encoding ea = impl_->encode_single(a, 0);
  Encoding eb = impl_->encode_single(b, 1);
  return impl_->post_process(std::move(ea), std::move(eb), add_special_tokens);
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts, bool add_special_tokens) const {
  std::vector<Encoding> out(texts.size());
  // encode() is thread-safe (const models; the BPE cache is locked), so the
  // batch is spread over the cores in contiguous slices.
  size_t hw = std::max(1u, std::thread::hardware_concurrency());
  size_t n_threads = std::min(hw, texts.size() / 8 + 1);
  if (n_threads <= 1) {
    for (size_t i = 0; i < texts.size(); ++i) out[i] = encode(texts[i], add_special_tokens);
  } else {
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(n_threads);
    size_t per = (texts.size() + n_threads - 1) / n_threads;
    for (size_t t = 0; t < n_threads; ++t) {
      pool.emplace_back([&, t] {
        try {
          for (size_t i = t * per; i < std::min(texts.size(), (t + 1) * per); ++i)
            out[i] = encode(texts[i], add_special_tokens);
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
  if (impl_->padding) pad_encodings(out, *impl_->padding);
  return out;
}

std::string Tokenizer::decode(const std::vector<uint32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (uint32_t id : ids) {
    auto t = impl_->added.id_to_token(id);
    if (!t) t = impl_->model->id_to_token(id);
    if (!t) continue;  // unknown ids are dropped, as in the Rust library
    if (skip_special_tokens && impl_->added.is_special(*t)) continue;
    tokens.push_back(std::move(*t));
  }
  if (impl_->decoder) return impl_->decoder->decode(std::move(tokens));
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out += ' ';
    out += tokens[i];
  }
  return out;
}

std::optional<uint32_t> Tokenizer::token_to_id(const std::string& token) const {
  if (auto a = impl_->added.token_to_id(token)) return a;
  return impl_->model->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(uint32_t id) const {
  if (auto a = impl_->added.id_to_token(id)) return a;
  return impl_->model->id_to_token(id);
}

size_t Tokenizer::vocab_size() const {
  size_t n = impl_->model->vocab_size();
  for (const auto& [id, t] : impl_->added.tokens())
    if (!impl_->model->id_to_token(id)) ++n;
  return n;
}

const std::optional<TruncationParams>& Tokenizer::truncation() const { return impl_->truncation; }
const std::optional<PaddingParams>& Tokenizer::padding() const { return impl_->padding; }
void Tokenizer::set_truncation(std::optional<TruncationParams> t) { impl_->truncation = std::move(t); }
void Tokenizer::set_padding(std::optional<PaddingParams> p) { impl_->padding = std::move(p); }

}  // namespace ia
