// Unicode helpers for the tokenizer: UTF-8 coding, the character classes the
// Rust `tokenizers` library uses (char::is_whitespace, is_numeric, Rust-regex
// \w, unicode_categories), full lowercase mapping, normalization forms with
// per-character change counts (so offsets can be tracked) and grapheme clusters.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ia::tok {

// One output character of a transformation and how it relates to the input:
// 0 = replaces one input char, +1 = inserted, -n = replaces one and removes n more.
struct CharChange {
  char32_t c;
  long change;
};

namespace uni {

inline int utf8_len(char32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }
inline int lead_len(unsigned char b) { return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4; }
inline void append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | (c >> 6));
    out += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += char(0xE0 | (c >> 12));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xF0 | (c >> 18));
    out += char(0x80 | ((c >> 12) & 0x3F));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  }
}
// Decodes the code point at s[i] (s must be valid UTF-8) and advances i.
inline char32_t next(std::string_view s, size_t& i) {
  unsigned char b = s[i];
  if (b < 0x80) { ++i; return b; }
  int n = lead_len(b);
  char32_t c = b & (0xFF >> (n + 1));
  for (int k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return c;
}
inline std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out += next(s, i);
  return out;
}
inline std::string to_utf8(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) append(out, c);
  return out;
}
inline size_t char_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char b : s) n += (b & 0xC0) != 0x80;
  return n;
}

bool is_valid_utf8(std::string_view s);
// Replaces every invalid UTF-8 sequence by U+FFFD (like Rust's from_utf8_lossy).
std::string sanitize_utf8(std::string_view s);

bool is_whitespace(char32_t c);    // Unicode White_Space (Rust char::is_whitespace)
bool is_numeric(char32_t c);       // Nd | Nl | No (Rust char::is_numeric)
bool is_punctuation(char32_t c);   // P* (unicode_categories is_punctuation)
bool is_ascii_punctuation(char32_t c);
bool is_other(char32_t c);         // C* (Cc Cf Cs Co Cn)
bool is_mark_nonspacing(char32_t c);  // Mn
bool is_combining_mark(char32_t c);   // M*
bool is_letter(char32_t c);           // L*
bool is_word_char(char32_t c);     // Rust regex \w (Alphabetic, M, Nd, Pc, Join_Control)
// Full lowercase mapping of one code point (Rust char::to_lowercase).
void to_lower(char32_t c, std::u32string& out);

enum class NormForm { NFC, NFD, NFKC, NFKD };
// Normalizes `s`, reporting every output char with its change count.
std::vector<CharChange> normalize(std::string_view s, NormForm form);
std::string normalize_str(std::string_view s, NormForm form);

// Byte offsets where extended grapheme clusters start (plus s.size() at the end).
std::vector<size_t> grapheme_bounds(std::string_view s);

}  // namespace uni
}  // namespace ia::tok
