#include "tokenizers/precompiled.h"

#include "core/error.h"

namespace ia::tok {

std::string base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = val(c);
    IA_CHECK(v >= 0, "precompiled_charsmap: invalid base64 character");
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  return out;
}

PrecompiledCharsmap::PrecompiledCharsmap(const std::string& blob) {
  IA_CHECK(blob.size() >= 4, "precompiled_charsmap: blob too short");
  auto u32 = [&](size_t at) {
    return uint32_t(uint8_t(blob[at])) | uint32_t(uint8_t(blob[at + 1])) << 8 | uint32_t(uint8_t(blob[at + 2])) << 16 |
           uint32_t(uint8_t(blob[at + 3])) << 24;
  };
  uint32_t trie_size = u32(0);
  IA_CHECK(size_t(trie_size) + 4 <= blob.size(), "precompiled_charsmap: trie size ", trie_size, " exceeds blob");
  size_t units = trie_size / 4;
  trie_.resize(units);
  for (size_t i = 0; i < units; ++i) trie_[i] = u32(4 + 4 * i);
  normalized_ = blob.substr(4 + units * 4);
  IA_CHECK(!trie_.empty(), "precompiled_charsmap: empty trie");
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view chunk) const {
  auto has_leaf = [](uint32_t u) { return ((u >> 8) & 1) == 1; };
  auto value = [](uint32_t u) { return u & ((1u << 31) - 1); };
  auto label = [](uint32_t u) { return u & ((1u << 31) | 0xFF); };
  auto offset = [](uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); };
  size_t pos = 0;
  uint32_t unit = trie_[pos];
  pos ^= offset(unit);
  for (unsigned char c : chunk) {
    if (c == 0) break;
    pos ^= c;
    if (pos >= trie_.size()) return std::nullopt;
    unit = trie_[pos];
    if (label(unit) != c) return std::nullopt;
    pos ^= offset(unit);
    if (has_leaf(unit)) {
      if (pos >= trie_.size()) return std::nullopt;
      size_t idx = value(trie_[pos]);
      if (idx > normalized_.size()) return std::nullopt;
      size_t end = normalized_.find('\0', idx);
      if (end == std::string::npos) end = normalized_.size();
      return std::string_view(normalized_).substr(idx, end - idx);
    }
  }
  return std::nullopt;
}

// Appends `new_part` as the replacement of `old_part` (Rust precompiled.rs `replace`).
static void push_replacement(std::vector<CharChange>& tr, std::string_view old_part, std::string_view new_part) {
  long old_count = long(uni::char_count(old_part));
  long new_count = long(uni::char_count(new_part));
  long diff = new_count - old_count;
  size_t first_new = tr.size();
  for (size_t i = 0; i < new_part.size();) tr.push_back({uni::next(new_part, i), 0});
  if (diff > 0) {
    for (long k = 0; k < diff && size_t(k) < tr.size() - first_new; ++k) tr[tr.size() - 1 - size_t(k)].change = 1;
  } else if (diff < 0) {
    if (!tr.empty()) tr.back().change += diff;  // may hit the previous char when new_part is empty
  }
}

void PrecompiledCharsmap::normalize(NormalizedString& n) const {
  const std::string& s = n.get();
  std::vector<CharChange> tr;
  tr.reserve(s.size());
  bool modified = false;
  auto bounds = uni::grapheme_bounds(s);
  for (size_t g = 0; g + 1 < bounds.size(); ++g) {
    std::string_view grapheme(s.data() + bounds[g], bounds[g + 1] - bounds[g]);
    if (grapheme.size() < 6) {
      if (auto norm = transform(grapheme)) {
        modified = true;
        push_replacement(tr, grapheme, *norm);
        continue;
      }
    }
    for (size_t i = 0; i < grapheme.size();) {
      size_t b = i;
      char32_t c = uni::next(grapheme, i);
      std::string_view part = grapheme.substr(b, i - b);
      if (auto norm = transform(part)) {
        modified = true;
        push_replacement(tr, part, *norm);
      } else {
        tr.push_back({c, 0});
      }
    }
  }
  if (modified) n.transform(tr, 0);
}

}  // namespace ia::tok
