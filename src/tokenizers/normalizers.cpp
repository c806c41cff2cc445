#include "tokenizers/normalizers.h"

#include <vector>

#include "tokenizers/byte_level_alphabet.h"
#include "tokenizers/json_util.h"
#include "tokenizers/precompiled.h"
#include "tokenizers/regex.h"

namespace ia::tok {
namespace {

struct UnicodeNorm : Normalizer {
  uni::NormForm form;
  explicit UnicodeNorm(uni::NormForm f) : form(f) {}
  void normalize(NormalizedString& n) const override {
    switch (form) {
      case uni::NormForm::NFC: n.nfc(); break;
      case uni::NormForm::NFD: n.nfd(); break;
      case uni::NormForm::NFKC: n.nfkc(); break;
      case uni::NormForm::NFKD: n.nfkd(); break;
    }
  }
};

struct Lowercase : Normalizer {
  void normalize(NormalizedString& n) const override { n.lowercase(); }
};

struct StripAccents : Normalizer {
  void normalize(NormalizedString& n) const override {
    n.filter([](char32_t c) { return !uni::is_combining_mark(c); });
  }
};

struct Strip : Normalizer {
  bool left, right;
  void normalize(NormalizedString& n) const override {
    if (left && right) {
      n.lrstrip(true, true);
    } else {
      if (left) n.lrstrip(true, false);
      if (right) n.lrstrip(false, true);
    }
  }
};

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

struct BertNormalizer : Normalizer {
  bool clean_text = true, handle_chinese_chars = true, lowercase = true;
  int strip_accents = -1;  // -1: follow lowercase
  void normalize(NormalizedString& n) const override {
    if (clean_text) {
      n.filter([](char32_t c) {
        bool control = !(c == '\t' || c == '\n' || c == '\r') && uni::is_other(c);
        return !(c == 0 || c == 0xFFFD || control);
      });
      n.map([](char32_t c) -> char32_t {
        return (c == '\t' || c == '\n' || c == '\r' || uni::is_whitespace(c)) ? U' ' : c;
      });
    }
    if (handle_chinese_chars) {
      std::vector<CharChange> tr;
      const std::string& s = n.get();
      tr.reserve(s.size());
      for (size_t i = 0; i < s.size();) {
        char32_t c = uni::next(s, i);
        if (is_chinese_char(c)) {
          tr.push_back({U' ', 0});
          tr.push_back({c, 1});
          tr.push_back({U' ', 1});
        } else {
          tr.push_back({c, 0});
        }
      }
      n.transform(tr, 0);
    }
    bool strip = strip_accents < 0 ? lowercase : strip_accents == 1;
    if (strip) {
      n.nfd();
      n.filter([](char32_t c) { return !uni::is_mark_nonspacing(c); });
    }
    if (lowercase) n.lowercase();
  }
};

struct Replace : Normalizer {
  std::unique_ptr<Regex> re;
  std::string content;
  void normalize(NormalizedString& n) const override {
    n.replace([this](const std::string& s) { return re->find_matches(s); }, content);
  }
};

struct Prepend : Normalizer {
  std::string prepend;
  void normalize(NormalizedString& n) const override {
    if (!n.empty()) n.prepend(prepend);
  }
};

struct Precompiled : Normalizer {
  std::unique_ptr<PrecompiledCharsmap> map;  // null for an empty charsmap
  void normalize(NormalizedString& n) const override {
    if (map) map->normalize(n);
  }
};

struct Nmt : Normalizer {
  void normalize(NormalizedString& n) const override {
    n.filter([](char32_t c) {
      return !((c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) || c == 0x7F || c == 0x8F || c == 0x9F);
    });
    n.map([](char32_t c) -> char32_t {
      switch (c) {
        case 0x9: case 0xA: case 0xC: case 0xD: case 0x1680: case 0x2028: case 0x2029: case 0x2581:
        case 0xFEFF: case 0xFFFD:
          return U' ';
        default:
          return (c >= 0x200B && c <= 0x200F) ? U' ' : c;
      }
    });
  }
};

// Byte-level normalizer: every byte becomes its printable stand-in char.
struct ByteLevelNorm : Normalizer {
  void normalize(NormalizedString& n) const override {
    const std::string& s = n.get();
    std::vector<CharChange> tr;
    tr.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
      size_t b = i;
      uni::next(s, i);
      for (size_t k = b; k < i; ++k) tr.push_back({byte_to_char(uint8_t(s[k])), k > b ? 1L : 0L});
    }
    n.transform(tr, 0);
  }
};

struct Sequence : Normalizer {
  std::vector<std::unique_ptr<Normalizer>> items;
  void normalize(NormalizedString& n) const override {
    for (auto& x : items) x->normalize(n);
  }
};

}  // namespace

std::unique_ptr<Normalizer> normalizer_from_json(const json& j, const JPath& p) {
  if (j.is_null()) return nullptr;
  std::string type = jstr(j, "type", p);
  if (type == "NFC") return std::make_unique<UnicodeNorm>(uni::NormForm::NFC);
  if (type == "NFD") return std::make_unique<UnicodeNorm>(uni::NormForm::NFD);
  if (type == "NFKC") return std::make_unique<UnicodeNorm>(uni::NormForm::NFKC);
  if (type == "NFKD") return std::make_unique<UnicodeNorm>(uni::NormForm::NFKD);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Nmt") return std::make_unique<Nmt>();
  if (type == "ByteLevel") return std::make_unique<ByteLevelNorm>();
  if (type == "Strip") {
    auto s = std::make_unique<Strip>();
    s->left = jbool_or(j, "strip_left", true, p);
    s->right = jbool_or(j, "strip_right", true, p);
    return s;
  }
  if (type == "BertNormalizer") {
    auto b = std::make_unique<BertNormalizer>();
    b->clean_text = jbool_or(j, "clean_text", true, p);
    b->handle_chinese_chars = jbool_or(j, "handle_chinese_chars", true, p);
    b->lowercase = jbool_or(j, "lowercase", true, p);
    if (jhas(j, "strip_accents")) b->strip_accents = jbool_or(j, "strip_accents", false, p) ? 1 : 0;
    return b;
  }
  if (type == "Replace") {
    auto r = std::make_unique<Replace>();
    auto [pat, is_regex] = jpattern(j, "pattern", p);
    r->re = std::make_unique<Regex>(pat, !is_regex);
    r->content = jstr(j, "content", p);
    return r;
  }
  if (type == "Prepend") {
    auto r = std::make_unique<Prepend>();
    r->prepend = jstr(j, "prepend", p);
    return r;
  }
  if (type == "Precompiled") {
    auto r = std::make_unique<Precompiled>();
    const json& v = jreq(j, "precompiled_charsmap", p);
    std::string blob;
    if (v.is_string()) {
      try {
        blob = base64_decode(v.get<std::string>());
      } catch (const Error& e) {
        json_fail(p / "precompiled_charsmap", e.what());
      }
    } else if (!v.is_null()) {
      json_fail(p / "precompiled_charsmap", "expected a base64 string");
    }
    if (!blob.empty()) {
      try {
        r->map = std::make_unique<PrecompiledCharsmap>(blob);
      } catch (const Error& e) {
        json_fail(p / "precompiled_charsmap", e.what());
      }
    }
    return r;
  }
  if (type == "Sequence") {
    auto s = std::make_unique<Sequence>();
    const json& arr = jreq(j, "normalizers", p);
    if (!arr.is_array()) json_fail(p / "normalizers", "expected an array");
    for (size_t i = 0; i < arr.size(); ++i) {
      auto n = normalizer_from_json(arr[i], (p / "normalizers")[i]);
      if (n) s->items.push_back(std::move(n));
    }
    return s;
  }
  json_fail(p / "type", "unknown normalizer type '" + type + "'");
}

}  // namespace ia::tok
