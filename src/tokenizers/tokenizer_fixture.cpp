#include "tokenizers/tokenizer_fixture.h"

#include <filesystem>
#include <fstream>

#include "tokenizers/json_util.h"
#include "tokenizers/tokenizer.h"
#include "tokenizers/unicode.h"
#include "verify/case_runner.h"

namespace ia {

using tok::json;
namespace fs = std::filesystem;

namespace {

json offsets_json(const std::vector<tok::Offsets>& v) {
  json a = json::array();
  for (auto& o : v) a.push_back({o.first, o.second});
  return a;
}
json words_json(const std::vector<std::optional<uint32_t>>& v) {
  json a = json::array();
  for (auto& w : v) a.push_back(w ? json(*w) : json(nullptr));
  return a;
}
json tokens_json(const std::vector<std::string>& v) {
  json a = json::array();
  for (auto& t : v) a.push_back(tok::uni::is_valid_utf8(t) ? t : tok::uni::sanitize_utf8(t));
  return a;
}

std::string short_dump(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

// First difference between two JSON values, "" if equal.
std::string diff(const std::string& name, const json& got, const json& want) {
  if (got == want) return "";
  if (got.is_array() && want.is_array()) {
    size_t n = std::min(got.size(), want.size());
    for (size_t i = 0; i < n; ++i)
      if (got[i] != want[i])
        return cat(name, "[", i, "]: got ", short_dump(got[i]), ", reference ", short_dump(want[i]));
    return cat(name, ": length ", got.size(), " != reference ", want.size());
  }
  return cat(name, ": got ", short_dump(got), ", reference ", short_dump(want));
}

struct Checker {
  std::vector<std::string> diffs;
  void check(const json& rec, const char* field, const json& got) {
    if (!rec.contains(field)) return;
    auto d = diff(field, got, rec[field]);
    if (!d.empty()) diffs.push_back(d);
  }
};

std::vector<uint32_t> ids_of(const json& rec, const char* field) {
  std::vector<uint32_t> ids;
  for (auto& v : rec.at(field)) ids.push_back(v.get<uint32_t>());
  return ids;
}

std::string case_name(const json& rec, size_t index, const std::string& kind) {
  std::string src = rec.value("source", "record");
  std::string where;
  if (rec.contains("line")) where = cat("line", rec["line"].get<int64_t>());
  else if (rec.contains("index")) where = cat("index", rec["index"].get<int64_t>());
  std::string name = cat(kind, "#", index, ":", src);
  if (!where.empty()) name += ":" + where;
  if (rec.contains("setting") && rec["setting"].is_string()) name += ":" + rec["setting"].get<std::string>();
  return name;
}

CaseResult finish(CaseResult r, const Checker& c) {
  if (!c.diffs.empty()) {
    r.status = CaseStatus::Fail;
    r.max_abs_err = 1;
    r.detail = c.diffs[0];
    if (c.diffs.size() > 1) r.detail += cat(" (+", c.diffs.size() - 1, " more)");
  }
  return r;
}

void check_reference_record(const Tokenizer& tk, const json& rec, Checker& c) {
  std::string text = rec.at("text").get<std::string>();
  bool pair = rec.contains("text_pair") && rec["text_pair"].is_string();
  std::string text_pair = pair ? rec["text_pair"].get<std::string>() : "";
  auto enc = [&](bool special) { return pair ? tk.encode_pair(text, text_pair, special) : tk.encode(text, special); };
  Encoding plain = enc(false);
  c.check(rec, "ids", plain.ids);
  c.check(rec, "tokens", tokens_json(plain.tokens));
  c.check(rec, "offsets", offsets_json(plain.offsets));
  c.check(rec, "word_ids", words_json(plain.word_ids));
  c.check(rec, "type_ids", plain.type_ids);
  Encoding full = enc(true);
  c.check(rec, "ids_with_special", full.ids);
  c.check(rec, "tokens_with_special", tokens_json(full.tokens));
  c.check(rec, "offsets_with_special", offsets_json(full.offsets));
  c.check(rec, "word_ids_with_special", words_json(full.word_ids));
  c.check(rec, "type_ids_with_special", full.type_ids);
  c.check(rec, "special_tokens_mask", full.special_tokens_mask);
  // Decodes run on the reference ids so they are checked independently of encoding.
  if (rec.contains("ids") && rec.contains("decode_ids")) c.check(rec, "decode_ids", tk.decode(ids_of(rec, "ids"), false));
  if (rec.contains("ids_with_special")) {
    auto ids = ids_of(rec, "ids_with_special");
    if (rec.contains("decode_with_special")) c.check(rec, "decode_with_special", tk.decode(ids, false));
    if (rec.contains("decode_skip_special")) c.check(rec, "decode_skip_special", tk.decode(ids, true));
  }
}

json encoding_fields(const Encoding& e) {
  json j;
  j["ids"] = e.ids;
  j["tokens"] = tokens_json(e.tokens);
  j["offsets"] = offsets_json(e.offsets);
  j["type_ids"] = e.type_ids;
  j["special_tokens_mask"] = e.special_tokens_mask;
  j["attention_mask"] = e.attention_mask;
  j["word_ids"] = words_json(e.word_ids);
  return j;
}

void check_truncation_record(Tokenizer& tk, const json& rec, Checker& c, const std::string& file) {
  tok::JPath p{file, "$"};
  std::optional<TruncationParams> trunc;
  if (rec.contains("truncation") && !rec["truncation"].is_null()) {
    const json& t = rec["truncation"];
    TruncationParams tp;
    tp.max_length = size_t(tok::jint(t, "maxLength", p / "truncation"));
    tp.stride = size_t(tok::jint_or(t, "stride", 0, p / "truncation"));
    std::string s = tok::jstr_or(t, "strategy", "LongestFirst", p / "truncation");
    tp.strategy = s == "OnlyFirst"    ? tok::TruncationStrategy::OnlyFirst
                  : s == "OnlySecond" ? tok::TruncationStrategy::OnlySecond
                                      : tok::TruncationStrategy::LongestFirst;
    tp.direction = tok::jstr_or(t, "direction", "right", p / "truncation") == "left" ? tok::TruncationDirection::Left
                                                                                    : tok::TruncationDirection::Right;
    trunc = tp;
  }
  std::optional<PaddingParams> pad;
  if (rec.contains("padding") && !rec["padding"].is_null()) {
    const json& t = rec["padding"];
    PaddingParams pp;
    if (t.contains("maxLength") && !t["maxLength"].is_null()) pp.fixed_length = t["maxLength"].get<size_t>();
    if (t.contains("padToMultipleOf") && !t["padToMultipleOf"].is_null())
      pp.pad_to_multiple_of = t["padToMultipleOf"].get<size_t>();
    pp.direction = tok::jstr_or(t, "direction", "right", p / "padding") == "left" ? tok::PaddingDirection::Left
                                                                                 : tok::PaddingDirection::Right;
    pp.pad_id = uint32_t(tok::jint_or(t, "padId", 0, p / "padding"));
    pp.pad_type_id = uint32_t(tok::jint_or(t, "padTypeId", 0, p / "padding"));
    pp.pad_token = tok::jstr_or(t, "padToken", "[PAD]", p / "padding");
    pad = pp;
  }
  tk.set_truncation(trunc);
  tk.set_padding(pad);
  std::string text = rec.at("text").get<std::string>();
  bool pair = rec.contains("text_pair") && rec["text_pair"].is_string();
  Encoding e = pair ? tk.encode_pair(text, rec["text_pair"].get<std::string>(), true) : tk.encode(text, true);
  tk.set_truncation(std::nullopt);
  tk.set_padding(std::nullopt);
  json got = encoding_fields(e);
  for (auto it = got.begin(); it != got.end(); ++it) c.check(rec, it.key().c_str(), it.value());
  if (rec.contains("overflowing")) {
    const json& want = rec["overflowing"];
    if (want.size() != e.overflowing.size()) {
      c.diffs.push_back(cat("overflowing: ", e.overflowing.size(), " encodings, reference ", want.size()));
    } else {
      for (size_t i = 0; i < want.size(); ++i) {
        json g = encoding_fields(e.overflowing[i]);
        for (auto it = g.begin(); it != g.end(); ++it) {
          if (!want[i].contains(it.key())) continue;
          auto d = diff(cat("overflowing[", i, "].", it.key()), it.value(), want[i][it.key()]);
          if (!d.empty()) c.diffs.push_back(d);
        }
      }
    }
  }
}

void run_file(Tokenizer* tk, const std::string& load_error, const fs::path& file, const std::string& rel,
              const std::string& kind, std::vector<CaseResult>& out) {
  std::ifstream f(file);
  std::string line;
  size_t index = 0;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    CaseResult r;
    r.fixture = rel;
    json rec;
    try {
      rec = json::parse(line);
    } catch (const std::exception& e) {
      r.case_name = cat(kind, "#", index++);
      r.status = CaseStatus::Fail;
      r.detail = cat(file.string(), ": line ", index, ": invalid JSON: ", e.what());
      out.push_back(r);
      continue;
    }
    r.case_name = case_name(rec, index++, kind);
    if (!tk) {
      r.status = CaseStatus::Fail;
      r.detail = load_error;
      out.push_back(r);
      continue;
    }
    const bool reference_raised = rec.contains("errors") && !rec["errors"].empty();
    out.push_back(run_verify_case(rel, r.case_name, [&](CaseResult& res) {
      Checker c;
      try {
        if (kind == "encode") check_reference_record(*tk, rec, c);
        else check_truncation_record(*tk, rec, c, file.string());
      } catch (const Unsupported&) {
        throw;
      } catch (const std::exception&) {
        if (reference_raised) return;  // PASS: the reference raised too
        throw;
      }
      if (reference_raised)
        c.diffs.push_back(cat("errors: reference raised ", short_dump(rec["errors"]), ", engine did not"));
      res = finish(res, c);
    }));
  }
}

}  // namespace

std::vector<CaseResult> verify_tokenizer_fixture(const std::string& dir, const std::string& rel,
                                                 const VerifyOptions& opts) {
  std::vector<CaseResult> out;
  std::optional<Tokenizer> tk;
  std::string load_error;
  try {
    tk.emplace(Tokenizer::from_dir(dir));
  } catch (const std::exception& e) {
    load_error = e.what();
  }
  run_file(tk ? &*tk : nullptr, load_error, fs::path(dir) / "reference_rs.jsonl", rel, "encode", out);
  fs::path tp = fs::path(dir) / "truncation_padding_rs.jsonl";
  if (fs::exists(tp)) run_file(tk ? &*tk : nullptr, load_error, tp, rel, "trunc_pad", out);
  return out;
}

}  // namespace ia
