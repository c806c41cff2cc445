#include "tokenizers/pre_tokenized_string.h"

#include <algorithm>

#include "core/error.h"

namespace ia::tok {

// Makes room for `extra` more splits, growing geometrically (one split often
// becomes tens of thousands of pieces; reallocating step by step is costly).
static void grow(std::vector<Split>& v, size_t extra) {
  size_t need = v.size() + extra;
  if (need > v.capacity()) v.reserve(std::max(need, v.capacity() * 2));
}

PreTokenizedString::PreTokenizedString(const std::string& text) : original(text) {
  splits.push_back({NormalizedString(text), std::nullopt});
}

void PreTokenizedString::split(const std::function<std::vector<Split>(size_t, NormalizedString&&)>& fn) {
  std::vector<Split> out;
  out.reserve(splits.size());
  for (size_t i = 0; i < splits.size(); ++i) {
    if (splits[i].tokens) {
      out.push_back(std::move(splits[i]));
      continue;
    }
    auto pieces = fn(i, std::move(splits[i].normalized));
    grow(out, pieces.size() + (splits.size() - i - 1));
    for (auto& s : pieces)
      if (!s.normalized.empty()) out.push_back(std::move(s));
  }
  splits = std::move(out);
}

void PreTokenizedString::split_plain(
    const std::function<std::vector<NormalizedString>(size_t, NormalizedString&&)>& fn) {
  std::vector<Split> out;
  out.reserve(splits.size());
  for (size_t i = 0; i < splits.size(); ++i) {
    if (splits[i].tokens) {
      out.push_back(std::move(splits[i]));
      continue;
    }
    auto pieces = fn(i, std::move(splits[i].normalized));
    grow(out, pieces.size() + (splits.size() - i - 1));
    for (auto& s : pieces)
      if (!s.empty()) out.push_back({std::move(s), std::nullopt});
  }
  splits = std::move(out);
}

void PreTokenizedString::normalize(const std::function<void(NormalizedString&)>& fn) {
  for (auto& s : splits)
    if (!s.tokens) fn(s.normalized);
}

void PreTokenizedString::tokenize(const std::function<std::vector<Token>(const std::string&)>& fn) {
  for (auto& s : splits)
    if (!s.tokens) s.tokens = fn(s.normalized.get());
}

void PreTokenizedString::tokenize_with_limit(const std::function<std::vector<Token>(const std::string&)>& fn,
                                             size_t max_tokens, TruncationDirection dir) {
  size_t total = 0;
  if (dir == TruncationDirection::Left) {
    size_t first = splits.size();
    for (size_t k = splits.size(); k-- > 0;) {
      auto& s = splits[k];
      first = k;
      if (s.tokens) {
        total += s.tokens->size();
        continue;
      }
      s.tokens = fn(s.normalized.get());
      total += s.tokens->size();
      if (total >= max_tokens) break;
    }
    splits.erase(splits.begin(), splits.begin() + long(first));
  } else {
    size_t last = 0;
    for (size_t k = 0; k < splits.size(); ++k) {
      auto& s = splits[k];
      last = k + 1;
      if (s.tokens) {
        total += s.tokens->size();
        continue;
      }
      s.tokens = fn(s.normalized.get());
      total += s.tokens->size();
      if (total >= max_tokens) break;
    }
    splits.resize(last);
  }
}

Encoding PreTokenizedString::into_encoding(std::optional<uint32_t> word_idx, uint32_t type_id) && {
  Encoding enc;
  if (splits.empty()) return enc;
  size_t total = 0;
  for (const auto& sp : splits) total += sp.tokens ? sp.tokens->size() : 0;
  enc.ids.reserve(total);
  enc.tokens.reserve(total);
  enc.offsets.reserve(total);
  enc.word_ids.reserve(total);
  enc.type_ids.reserve(total);
  enc.special_tokens_mask.reserve(total);
  enc.attention_mask.reserve(total);
  // Byte -> code point index of `original` (every byte of a char maps to that char).
  std::vector<uint32_t> char_of_byte(original.size());
  {
    uint32_t ci = 0;
    for (size_t i = 0; i < original.size(); ++ci) {
      size_t n = size_t(uni::lead_len(static_cast<unsigned char>(original[i])));
      for (size_t k = 0; k < n && i + k < original.size(); ++k) char_of_byte[i + k] = ci;
      i += n;
    }
  }
  auto convert = [&](Offsets o) -> Offsets {
    if (o.first >= char_of_byte.size()) return o;  // not convertible: Rust keeps byte offsets
    size_t start = char_of_byte[o.first];
    if (o.second < char_of_byte.size()) return {start, char_of_byte[o.second]};
    size_t last = (o.second >= 1 && o.second - 1 < char_of_byte.size()) ? char_of_byte[o.second - 1] : start + 1;
    return {start, last + 1};
  };
  for (size_t idx = 0; idx < splits.size(); ++idx) {
    auto& sp = splits[idx];
    IA_CHECK(sp.tokens.has_value(), "tokenizer: split has not been tokenized");
    Offsets base = sp.normalized.offsets_original();
    for (auto& t : *sp.tokens) {
      Offsets off = t.offsets;
      if (auto r = sp.normalized.normalized_to_original({t.offsets.first, t.offsets.second}))
        off = {base.first + r->first, base.first + r->second};
      off = convert(off);
      enc.push(t.id, std::move(t.value), off, word_idx ? word_idx : std::optional<uint32_t>(uint32_t(idx)), type_id);
    }
  }
  return enc;
}

}  // namespace ia::tok
