#include "tokenizers/unicode.h"

#include <utf8proc.h>

namespace ia::tok::uni {

// Length of the valid UTF-8 sequence at s[i], or -(bytes of its maximal
// invalid prefix) when it is broken (the unit Rust's from_utf8_lossy replaces).
static long utf8_seq(std::string_view s, size_t i) {
  unsigned char b = s[i];
  if (b < 0x80) return 1;
  int n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) n = 2;
  else if (b == 0xE0) { n = 3; lo = 0xA0; }
  else if (b >= 0xE1 && b <= 0xEC) n = 3;
  else if (b == 0xED) { n = 3; hi = 0x9F; }
  else if (b >= 0xEE && b <= 0xEF) n = 3;
  else if (b == 0xF0) { n = 4; lo = 0x90; }
  else if (b >= 0xF1 && b <= 0xF3) n = 4;
  else if (b == 0xF4) { n = 4; hi = 0x8F; }
  else return -1;
  for (int k = 1; k < n; ++k) {
    if (i + size_t(k) >= s.size()) return -k;
    unsigned char c = s[i + size_t(k)];
    if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return -k;
  }
  return n;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    long n = utf8_seq(s, i);
    if (n < 0) return false;
    i += size_t(n);
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    long n = utf8_seq(s, i);
    if (n < 0) {
      append(out, 0xFFFD);
      i += size_t(-n);
    } else {
      out.append(s.data() + i, size_t(n));
      i += size_t(n);
    }
  }
  return out;
}

bool is_whitespace(char32_t c) {
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

static utf8proc_category_t cat(char32_t c) { return utf8proc_category(utf8proc_int32_t(c)); }

bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

bool is_punctuation(char32_t c) {
  auto k = cat(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

bool is_other(char32_t c) {
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CS ||
         k == UTF8PROC_CATEGORY_CO || k == UTF8PROC_CATEGORY_CN;
}

bool is_mark_nonspacing(char32_t c) { return cat(c) == UTF8PROC_CATEGORY_MN; }

bool is_combining_mark(char32_t c) {
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC || k == UTF8PROC_CATEGORY_ME;
}

bool is_letter(char32_t c) {
  auto k = cat(c);
  return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (c == 0x200C || c == 0x200D) return true;  // Join_Control
  // Other_Alphabetic symbols (circled / squared letters) are Alphabetic too.
  if ((c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
      (c >= 0x1F170 && c <= 0x1F189))
    return true;
  auto k = cat(c);
  return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) || k == UTF8PROC_CATEGORY_MN ||
         k == UTF8PROC_CATEGORY_MC || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_ND ||
         k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_PC;
}

void to_lower(char32_t c, std::u32string& out) {
  if (c < 0x80) {
    out += (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return;
  }
  if (c == 0x130) {  // the only unconditional multi-char lowercase mapping
    out += U'i';
    out += char32_t(0x307);
    return;
  }
  out += char32_t(utf8proc_tolower(utf8proc_int32_t(c)));
}

static std::u32string norm_u32(const std::u32string& in, NormForm form) {
  if (in.empty()) return {};
  int opts = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
  if (form == NormForm::NFKC || form == NormForm::NFKD) opts |= UTF8PROC_COMPAT;
  std::string utf8 = to_utf8(in);
  std::vector<utf8proc_int32_t> buf(in.size() * 4 + 8);
  // utf8proc_decompose (explicit length, so NUL is an ordinary char) also does
  // the canonical reordering; composition is a second pass.
  auto n = utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()), utf8proc_ssize_t(utf8.size()),
                              buf.data(), utf8proc_ssize_t(buf.size()), utf8proc_option_t(opts));
  if (n > utf8proc_ssize_t(buf.size())) {
    buf.resize(size_t(n));
    n = utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()), utf8proc_ssize_t(utf8.size()),
                           buf.data(), utf8proc_ssize_t(buf.size()), utf8proc_option_t(opts));
  }
  if (n < 0) return in;
  if (form == NormForm::NFC || form == NormForm::NFKC) {
    n = utf8proc_normalize_utf32(buf.data(), n, utf8proc_option_t((opts & ~UTF8PROC_DECOMPOSE) | UTF8PROC_COMPOSE));
    if (n < 0) return in;
  }
  std::u32string out;
  out.reserve(size_t(n));
  for (utf8proc_ssize_t k = 0; k < n; ++k) out += char32_t(buf[size_t(k)]);
  return out;
}

static int ccc(char32_t c) { return utf8proc_get_property(utf8proc_int32_t(c))->combining_class; }

std::vector<CharChange> normalize(std::string_view s, NormForm form) {
  std::vector<CharChange> out;
  out.reserve(s.size());
  bool ascii = true;
  for (unsigned char b : s) ascii &= b < 0x80;
  if (ascii) {
    for (unsigned char b : s) out.push_back({char32_t(b), 0});
    return out;
  }
  std::u32string text = to_u32(s);
  // Chunks start at starters (ccc 0); a chunk is merged into the previous one when
  // normalizing them together differs from normalizing them apart (Hangul, etc.).
  std::u32string chunk, chunk_norm;
  auto flush = [&]() {
    size_t m = chunk.size(), k = chunk_norm.size();
    if (m == 0) return;
    if (k >= m) {
      for (size_t i = 0; i < k; ++i) out.push_back({chunk_norm[i], i < m ? 0L : 1L});
    } else if (k == 0) {
      // Everything removed: cannot happen for Unicode normalization; keep input.
      for (char32_t c : chunk) out.push_back({c, 0});
    } else {
      out.push_back({chunk_norm[0], -long(m - k)});
      for (size_t i = 1; i < k; ++i) out.push_back({chunk_norm[i], 0});
    }
  };
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i + 1;
    while (j < text.size() && ccc(text[j]) != 0) ++j;
    std::u32string seg = text.substr(i, j - i);
    std::u32string seg_norm = norm_u32(seg, form);
    if (!chunk.empty()) {
      std::u32string joined = norm_u32(chunk + seg, form);
      if (joined != chunk_norm + seg_norm) {
        chunk += seg;
        chunk_norm = std::move(joined);
        i = j;
        continue;
      }
      flush();
    }
    chunk = std::move(seg);
    chunk_norm = std::move(seg_norm);
    i = j;
  }
  flush();
  return out;
}

std::string normalize_str(std::string_view s, NormForm form) {
  std::string out;
  for (auto& ch : normalize(s, form)) append(out, ch.c);
  return out;
}

std::vector<size_t> grapheme_bounds(std::string_view s) {
  std::vector<size_t> b;
  utf8proc_int32_t state = 0;
  char32_t prev = 0;
  size_t i = 0;
  bool first = true;
  while (i < s.size()) {
    size_t at = i;
    char32_t c = next(s, i);
    if (first || utf8proc_grapheme_break_stateful(utf8proc_int32_t(prev), utf8proc_int32_t(c), &state)) b.push_back(at);
    first = false;
    prev = c;
  }
  b.push_back(s.size());
  return b;
}

}  // namespace ia::tok::uni
