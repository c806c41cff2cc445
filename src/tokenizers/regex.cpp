#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizers/regex.h"

#include <pcre2.h>

#include "core/error.h"

namespace ia::tok {

namespace {
// Oniguruma's Unicode \s is the White_Space property (PCRE2 adds U+180E via \h).
const char* kSpaceItems = "\\t\\n\\x0B\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
// Oniguruma's \w: Letter | Mark | Decimal_Number | Connector_Punctuation.
const char* kWordItems = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";
const char* kHexItems = "0-9a-fA-F";
}  // namespace

std::string onig_to_pcre2(const std::string& p) {
  std::string out;
  out.reserve(p.size() + 16);
  int class_depth = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      const char* items = nullptr;
      bool negate = false;
      switch (e) {
        case 's': items = kSpaceItems; break;
        case 'S': items = kSpaceItems; negate = true; break;
        case 'w': items = kWordItems; break;
        case 'W': items = kWordItems; negate = true; break;
        case 'h': items = kHexItems; break;
        case 'H': items = kHexItems; negate = true; break;
        default: break;
      }
      if (items && (class_depth == 0 || !negate)) {
        if (class_depth == 0) out += negate ? "[^" : "[";
        out += items;
        if (class_depth == 0) out += "]";
      } else {
        out += c;
        out += e;
      }
      ++i;
      continue;
    }
    if (c == '[') {
      if (class_depth > 0 && i + 1 < p.size() && p[i + 1] == ':') {
        size_t close = p.find(":]", i + 2);
        if (close != std::string::npos) {
          out.append(p, i, close + 2 - i);
          i = close + 1;
          continue;
        }
      }
      ++class_depth;
      out += c;
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') { out += '^'; ++i; }
      if (i + 1 < p.size() && p[i + 1] == ']') { out += "\\]"; ++i; }
      continue;
    }
    if (c == ']' && class_depth > 0) --class_depth;
    out += c;
  }
  return out;
}

Regex::Regex(const std::string& pattern, bool literal) : pattern_(pattern), literal_(literal) {
  if (literal_ && !pattern_.empty()) return;  // plain substring search
  std::string src = literal_ ? pattern_ : onig_to_pcre2(pattern_);
  int err = 0;
  PCRE2_SIZE erroff = 0;
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE;
  if (literal_) opts |= PCRE2_LITERAL;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(src.data()), src.size(), opts, &err, &erroff, nullptr);
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    fail("invalid regex '", pattern_, "' at offset ", erroff, ": ", reinterpret_cast<char*>(buf));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_ = code;
}

Regex::~Regex() {
  if (code_) pcre2_code_free(static_cast<pcre2_code*>(code_));
}

std::vector<Range> Regex::find_all(const std::string& text) const {
  std::vector<Range> out;
  if (!code_) {
    size_t pos = 0;
    while ((pos = text.find(pattern_, pos)) != std::string::npos) {
      out.push_back({pos, pos + pattern_.size()});
      pos += pattern_.size();
    }
    return out;
  }
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  size_t start = 0;
  while (start <= text.size()) {
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                         PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
      // The JIT stack can run out on long inputs; the interpreter has its own limits.
      rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                       PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
      if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
        pcre2_match_data_free(md);
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(rc, buf, sizeof buf);
        fail("regex '", pattern_, "' failed on a ", text.size(), "-byte input: ", reinterpret_cast<char*>(buf));
      }
    }
    if (rc < 0) break;
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t s = ov[0], e = ov[1];
    // Like the Rust iterators, an empty match right after the previous match is skipped.
    bool skip = (e == s && !out.empty() && out.back().second == s);
    if (!skip) out.push_back({s, e});
    if (e == s) {
      // Empty match: step over one character.
      if (e >= text.size()) break;
      start = e + size_t(uni::lead_len(static_cast<unsigned char>(text[e])));
    } else {
      start = e;
    }
  }
  pcre2_match_data_free(md);
  return out;
}

std::vector<PatternPiece> Regex::find_matches(const std::string& text) const {
  if (text.empty()) return {{0, 0, false}};
  std::vector<PatternPiece> out;
  size_t prev = 0;
  for (auto [s, e] : find_all(text)) {
    if (prev != s) out.push_back({prev, s, false});
    out.push_back({s, e, true});
    prev = e;
  }
  if (prev != text.size()) out.push_back({prev, text.size(), false});
  return out;
}

}  // namespace ia::tok
