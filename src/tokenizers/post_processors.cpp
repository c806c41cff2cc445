#include "tokenizers/post_processors.h"

#include <map>

#include "tokenizers/byte_level_alphabet.h"
#include "tokenizers/json_util.h"
#include "tokenizers/unicode.h"

namespace ia::tok {

Encoding PostProcessor::process(Encoding enc, Encoding* pair, bool add_special_tokens) const {
  std::vector<Encoding> encs;
  encs.push_back(std::move(enc));
  if (pair) encs.push_back(std::move(*pair));
  for (size_t i = 0; i < encs.size(); ++i) {
    encs[i].set_sequence_id(i);
    for (auto& o : encs[i].overflowing) o.set_sequence_id(i);
    encs[i].set_type_ids(uint32_t(i));
  }
  return Encoding::merge(process_encodings(std::move(encs), add_special_tokens), false);
}

Encoding default_post_process(Encoding enc, Encoding* pair) {
  if (!pair) return enc;
  Encoding out;
  enc.set_sequence_id(0);
  out.merge_with(enc, false);
  pair->set_sequence_id(1);
  out.merge_with(*pair, false);
  return out;
}

void byte_level_process_offsets(Encoding& enc, bool add_prefix_space) {
  const char32_t space = byte_to_char(' ');
  for (size_t i = 0; i < enc.tokens.size(); ++i) {
    std::u32string t = uni::to_u32(enc.tokens[i]);
    auto is_sp = [&](char32_t c) { return c == space || uni::is_whitespace(c); };
    size_t leading = 0, trailing = 0;
    while (leading < t.size() && is_sp(t[leading])) ++leading;
    while (trailing < t.size() && is_sp(t[t.size() - 1 - trailing])) ++trailing;
    auto& off = enc.offsets[i];
    if (leading > 0 || trailing > 0) {
      if (leading > 0) {
        bool is_first = i == 0 || off.first == 0;
        if (is_first && add_prefix_space && leading == 1) leading = 0;
        off.first = std::min(off.first + leading, off.second);
      }
      if (trailing > 0 && off.second >= trailing) off.second = std::max(off.second - trailing, off.first);
    }
  }
}

namespace {

struct SpecialTokenDef {
  std::vector<uint32_t> ids;
  std::vector<std::string> tokens;
};

struct Piece {
  bool is_sequence;
  size_t seq;          // 0 = A, 1 = B
  std::string special;  // special token id
  uint32_t type_id;
};

class Template : public PostProcessor {
 public:
  std::vector<Piece> single, pair;
  std::map<std::string, SpecialTokenDef> specials;

  size_t count(const std::vector<Piece>& t) const {
    size_t n = 0;
    for (auto& p : t)
      if (!p.is_sequence) {
        auto it = specials.find(p.special);
        if (it != specials.end()) n += it->second.ids.size();
      }
    return n;
  }
  size_t added_tokens(bool is_pair) const override { return count(is_pair ? pair : single); }

  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add_special) const override {
    const auto& tpl = encs.size() == 2 ? pair : single;
    std::vector<Encoding> out;
    for (auto& p : tpl) {
      if (p.is_sequence) {
        size_t i = std::min(p.seq, encs.size() - 1);
        encs[i].set_type_ids(p.type_id);
        encs[i].set_sequence_id(i);
        out.push_back(encs[i]);
      } else if (add_special) {
        const auto& sp = specials.at(p.special);
        Encoding e;
        for (size_t k = 0; k < sp.ids.size(); ++k)
          e.push(sp.ids[k], k < sp.tokens.size() ? sp.tokens[k] : std::string(), {0, 0}, std::nullopt, p.type_id, 1);
        out.push_back(std::move(e));
      }
    }
    return out;
  }
};

// Adds cls/sep around each sequence (Bert: "[CLS] A [SEP] B [SEP]", Roberta: "<s> A </s></s> B </s>").
class ClsSep : public PostProcessor {
 public:
  std::string cls_tok, sep_tok;
  uint32_t cls_id = 0, sep_id = 0;
  bool roberta = false, trim_offsets = true, add_prefix_space = true;

  size_t added_tokens(bool is_pair) const override { return is_pair ? (roberta ? 4 : 3) : 2; }

  Encoding wrap(const Encoding& e, bool first, size_t seq) const {
    Encoding out;
    bool lead = first || roberta;
    uint32_t lead_id = first ? cls_id : sep_id;
    const std::string& lead_tok = first ? cls_tok : sep_tok;
    uint32_t tail_type = roberta ? 0 : (first ? 0 : 1);
    if (lead) out.push(lead_id, lead_tok, {0, 0}, std::nullopt, 0, 1);
    for (size_t k = 0; k < e.size(); ++k)
      out.push(e.ids[k], e.tokens[k], e.offsets[k], e.word_ids[k], roberta ? 0 : e.type_ids[k], 0);
    out.push(sep_id, sep_tok, {0, 0}, std::nullopt, tail_type, 1);
    out.sequence_ranges[seq] = {lead ? 1 : 0, out.size() - 1};
    return out;
  }

  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add_special) const override {
    if (roberta && trim_offsets) {
      for (auto& e : encs) {
        byte_level_process_offsets(e, add_prefix_space);
        for (auto& o : e.overflowing) byte_level_process_offsets(o, add_prefix_space);
      }
    }
    if (roberta)
      for (auto& e : encs) e.set_type_ids(0);
    if (!add_special) return encs;
    std::vector<Encoding> out;
    for (size_t i = 0; i < encs.size(); ++i) {
      Encoding w = wrap(encs[i], i == 0, i);
      for (auto& o : encs[i].overflowing) w.overflowing.push_back(wrap(o, i == 0, i));
      out.push_back(std::move(w));
    }
    return out;
  }
};

class ByteLevelPost : public PostProcessor {
 public:
  bool trim_offsets = true, add_prefix_space = true;
  size_t added_tokens(bool) const override { return 0; }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool) const override {
    if (trim_offsets)
      for (auto& e : encs) {
        byte_level_process_offsets(e, add_prefix_space);
        for (auto& o : e.overflowing) byte_level_process_offsets(o, add_prefix_space);
      }
    for (size_t i = 0; i < encs.size(); ++i) encs[i].set_sequence_id(i);
    return encs;
  }
};

class SequencePost : public PostProcessor {
 public:
  std::vector<std::unique_ptr<PostProcessor>> items;
  size_t added_tokens(bool is_pair) const override {
    size_t n = 0;
    for (auto& x : items) n += x->added_tokens(is_pair);
    return n;
  }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add_special) const override {
    for (auto& x : items) encs = x->process_encodings(std::move(encs), add_special);
    return encs;
  }
};

// Template piece from JSON: {"Sequence": {"id": "A", "type_id": 0}} / {"SpecialToken": {...}} or "$A:0" / "[CLS]:1".
Piece parse_piece(const json& v, const JPath& p) {
  Piece pc{};
  if (v.is_object() && v.contains("Sequence")) {
    const json& s = v["Sequence"];
    std::string id = jstr(s, "id", p / "Sequence");
    if (id != "A" && id != "B") json_fail(p / "Sequence" / "id", "expected A or B");
    pc.is_sequence = true;
    pc.seq = id == "A" ? 0 : 1;
    pc.type_id = uint32_t(jint_or(s, "type_id", 0, p / "Sequence"));
    return pc;
  }
  if (v.is_object() && v.contains("SpecialToken")) {
    const json& s = v["SpecialToken"];
    pc.is_sequence = false;
    pc.special = jstr(s, "id", p / "SpecialToken");
    pc.type_id = uint32_t(jint_or(s, "type_id", 0, p / "SpecialToken"));
    return pc;
  }
  if (v.is_string()) {
    // "id" or "id:type_id"; "$"/"$A" = A, "$B" = B, "$N" = A with type id N.
    std::string s = v.get<std::string>();
    std::string name = s;
    std::optional<uint32_t> type_id;
    size_t colon = s.find(':');
    if (colon != std::string::npos) {
      if (s.find(':', colon + 1) != std::string::npos) json_fail(p, "cannot parse template piece '" + s + "'");
      std::string t = s.substr(colon + 1);
      if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos)
        json_fail(p, "cannot parse template piece '" + s + "'");
      name = s.substr(0, colon);
      type_id = uint32_t(std::stoul(t));
    }
    if (!name.empty() && name[0] == '$') {
      std::string rest = name.substr(1);
      Piece pc2{true, 0, "", 0};
      if (rest == "" || rest == "A" || rest == "a") pc2.seq = 0;
      else if (rest == "B" || rest == "b") pc2.seq = 1;
      else if (rest.find_first_not_of("0123456789") == std::string::npos) pc2.type_id = uint32_t(std::stoul(rest));
      else json_fail(p, "cannot parse template piece '" + s + "'");
      if (type_id) pc2.type_id = *type_id;
      return pc2;
    }
    return {false, 0, name, type_id.value_or(0)};
  }
  json_fail(p, "expected a template piece");
}

std::vector<Piece> parse_template(const json& j, const char* key, const JPath& p) {
  const json& v = jreq(j, key, p);
  std::vector<Piece> out;
  if (v.is_string()) {
    // "[CLS] $A [SEP]" form.
    std::string s = v.get<std::string>();
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && s[i] == ' ') ++i;
      size_t e = s.find(' ', i);
      if (e == std::string::npos) e = s.size();
      if (e > i) out.push_back(parse_piece(json(s.substr(i, e - i)), p / key));
      i = e;
    }
    return out;
  }
  if (!v.is_array()) json_fail(p / key, "expected an array of pieces");
  for (size_t i = 0; i < v.size(); ++i) out.push_back(parse_piece(v[i], (p / key)[i]));
  return out;
}

std::pair<std::string, uint32_t> tok_id_pair(const json& j, const char* key, const JPath& p) {
  const json& v = jreq(j, key, p);
  if (!v.is_array() || v.size() != 2 || !v[0].is_string()) json_fail(p / key, "expected [token, id]");
  return {v[0].get<std::string>(), jid(v[1], (p / key)[1])};
}

}  // namespace

std::unique_ptr<PostProcessor> post_processor_from_json(const json& j, const JPath& p) {
  if (j.is_null()) return nullptr;
  std::string type = jstr(j, "type", p);
  if (type == "TemplateProcessing") {
    auto t = std::make_unique<Template>();
    t->single = parse_template(j, "single", p);
    t->pair = parse_template(j, "pair", p);
    if (jhas(j, "special_tokens")) {
      const json& st = j["special_tokens"];
      JPath sp = p / "special_tokens";
      if (!st.is_object()) json_fail(sp, "expected an object");
      for (auto it = st.begin(); it != st.end(); ++it) {
        JPath ep = sp / it.key();
        SpecialTokenDef d;
        const json& ids = jreq(it.value(), "ids", ep);
        if (!ids.is_array()) json_fail(ep / "ids", "expected an array");
        for (size_t i = 0; i < ids.size(); ++i) d.ids.push_back(jid(ids[i], (ep / "ids")[i]));
        const json& toks = jreq(it.value(), "tokens", ep);
        if (!toks.is_array()) json_fail(ep / "tokens", "expected an array");
        for (auto& x : toks) {
          if (!x.is_string()) json_fail(ep / "tokens", "expected strings");
          d.tokens.push_back(x.get<std::string>());
        }
        if (d.ids.size() != d.tokens.size()) json_fail(ep, "ids and tokens differ in length");
        t->specials[it.key()] = std::move(d);
      }
    }
    for (auto* tpl : {&t->single, &t->pair})
      for (auto& pc : *tpl)
        if (!pc.is_sequence && !t->specials.count(pc.special))
          json_fail(p / "special_tokens", "missing special token '" + pc.special + "' used by the template");
    bool has_a = false, has_b = false;
    for (auto& pc : t->pair)
      if (pc.is_sequence) (pc.seq == 0 ? has_a : has_b) = true;
    if (!has_a || !has_b) json_fail(p / "pair", "template for pair must use both sequences");
    return t;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    auto b = std::make_unique<ClsSep>();
    std::tie(b->sep_tok, b->sep_id) = tok_id_pair(j, "sep", p);
    std::tie(b->cls_tok, b->cls_id) = tok_id_pair(j, "cls", p);
    b->roberta = type == "RobertaProcessing";
    b->trim_offsets = jbool_or(j, "trim_offsets", true, p);
    b->add_prefix_space = jbool_or(j, "add_prefix_space", true, p);
    return b;
  }
  if (type == "ByteLevel") {
    auto b = std::make_unique<ByteLevelPost>();
    b->trim_offsets = jbool_or(j, "trim_offsets", true, p);
    b->add_prefix_space = jbool_or(j, "add_prefix_space", true, p);
    return b;
  }
  if (type == "Sequence") {
    auto s = std::make_unique<SequencePost>();
    const json& arr = jreq(j, "processors", p);
    if (!arr.is_array()) json_fail(p / "processors", "expected an array");
    for (size_t i = 0; i < arr.size(); ++i) {
      auto x = post_processor_from_json(arr[i], (p / "processors")[i]);
      if (x) s->items.push_back(std::move(x));
    }
    return s;
  }
  json_fail(p / "type", "unknown post-processor type '" + type + "'");
}

}  // namespace ia::tok
