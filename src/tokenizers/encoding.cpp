#include "tokenizers/encoding.h"

#include <algorithm>

#include "core/error.h"

namespace ia::tok {

void Encoding::push(uint32_t id, std::string token, Offsets off, std::optional<uint32_t> word, uint32_t type_id,
                    uint32_t special) {
  ids.push_back(id);
  tokens.push_back(std::move(token));
  offsets.push_back(off);
  word_ids.push_back(word);
  type_ids.push_back(type_id);
  special_tokens_mask.push_back(special);
  attention_mask.push_back(1);
}

void Encoding::merge_with(const Encoding& pair, bool growing_offsets) {
  std::vector<Encoding> overflowings;
  for (const auto& self_o : overflowing) {
    Encoding n = self_o;
    n.merge_with(pair, growing_offsets);
    overflowings.push_back(std::move(n));
    for (const auto& other_o : pair.overflowing) {
      Encoding m = self_o;
      m.merge_with(other_o, growing_offsets);
      overflowings.push_back(std::move(m));
    }
  }
  for (const auto& other_o : pair.overflowing) {
    Encoding n = *this;
    n.merge_with(other_o, growing_offsets);
    overflowings.push_back(std::move(n));
  }
  size_t orig_len = ids.size();
  for (const auto& [seq, r] : pair.sequence_ranges) sequence_ranges[seq] = {orig_len + r.first, orig_len + r.second};
  ids.insert(ids.end(), pair.ids.begin(), pair.ids.end());
  type_ids.insert(type_ids.end(), pair.type_ids.begin(), pair.type_ids.end());
  tokens.insert(tokens.end(), pair.tokens.begin(), pair.tokens.end());
  word_ids.insert(word_ids.end(), pair.word_ids.begin(), pair.word_ids.end());
  size_t start = growing_offsets && !offsets.empty() ? offsets.back().second : 0;
  for (auto o : pair.offsets) offsets.push_back({o.first + start, o.second + start});
  special_tokens_mask.insert(special_tokens_mask.end(), pair.special_tokens_mask.begin(), pair.special_tokens_mask.end());
  attention_mask.insert(attention_mask.end(), pair.attention_mask.begin(), pair.attention_mask.end());
  overflowing = std::move(overflowings);
}

Encoding Encoding::merge(std::vector<Encoding> encs, bool growing_offsets) {
  // Merging one encoding into an empty one yields that encoding unchanged.
  if (encs.size() == 1) return std::move(encs[0]);
  Encoding out;
  for (auto& e : encs) out.merge_with(e, growing_offsets);
  return out;
}

Encoding Encoding::range(size_t a, size_t b) const {
  Encoding e;
  e.ids.assign(ids.begin() + long(a), ids.begin() + long(b));
  e.type_ids.assign(type_ids.begin() + long(a), type_ids.begin() + long(b));
  e.tokens.assign(tokens.begin() + long(a), tokens.begin() + long(b));
  e.word_ids.assign(word_ids.begin() + long(a), word_ids.begin() + long(b));
  e.offsets.assign(offsets.begin() + long(a), offsets.begin() + long(b));
  e.special_tokens_mask.assign(special_tokens_mask.begin() + long(a), special_tokens_mask.begin() + long(b));
  e.attention_mask.assign(attention_mask.begin() + long(a), attention_mask.begin() + long(b));
  return e;
}

void Encoding::truncate(size_t max_len, size_t stride, TruncationDirection dir) {
  size_t n = ids.size();
  if (max_len >= n) return;
  if (max_len == 0) {
    Encoding o = std::move(*this);
    *this = Encoding();
    overflowing.push_back(std::move(o));
    return;
  }
  IA_CHECK(stride < max_len, "truncation: stride (", stride, ") must be strictly less than the room left for the sequence (",
           max_len, ")");
  sequence_ranges.clear();
  size_t step = max_len - stride;
  std::vector<std::pair<size_t, size_t>> parts;
  bool end = false;
  if (dir == TruncationDirection::Right) {
    for (size_t start = 0; start < n && !end; start += step) {
      size_t stop = std::min(start + max_len, n);
      end = stop == n;
      parts.push_back({start, stop});
    }
  } else {
    for (long s = long(n) - 1; s >= 0 && !end; s -= long(step)) {
      size_t stop = size_t(s) + 1;
      size_t start = stop > max_len ? stop - max_len : 0;
      if (start < stop) {
        end = start == 0;
        parts.push_back({start, stop});
      }
    }
  }
  Encoding first = range(parts[0].first, parts[0].second);
  for (size_t i = 1; i < parts.size(); ++i) first.overflowing.push_back(range(parts[i].first, parts[i].second));
  *this = std::move(first);
}

void Encoding::pad(size_t target, uint32_t pad_id, uint32_t pad_type_id, const std::string& pad_token,
                   PaddingDirection dir) {
  for (auto& o : overflowing) o.pad(target, pad_id, pad_type_id, pad_token, dir);
  if (ids.size() >= target) return;
  size_t k = target - ids.size();
  auto ins = [&](auto& v, auto val) {
    if (dir == PaddingDirection::Left) v.insert(v.begin(), k, val);
    else v.insert(v.end(), k, val);
  };
  ins(ids, pad_id);
  ins(type_ids, pad_type_id);
  ins(tokens, pad_token);
  ins(word_ids, std::optional<uint32_t>());
  ins(attention_mask, 0u);
  ins(special_tokens_mask, 1u);
  ins(offsets, Offsets{0, 0});
  if (dir == PaddingDirection::Left)
    for (auto& [seq, r] : sequence_ranges) r = {r.first + k, r.second + k};
}

void truncate_encodings(Encoding& enc, Encoding* pair, const TruncationParams& p) {
  if (p.max_length == 0) {
    enc.truncate(0, p.stride, p.direction);
    if (pair) pair->truncate(0, p.stride, p.direction);
    return;
  }
  size_t total = enc.size() + (pair ? pair->size() : 0);
  if (total <= p.max_length) return;
  size_t to_remove = total - p.max_length;
  if (p.strategy == TruncationStrategy::LongestFirst) {
    if (pair) {
      size_t n1 = enc.size(), n2 = pair->size();
      bool swap = false;
      if (n1 > n2) {
        swap = true;
        std::swap(n1, n2);
      }
      if (n1 > p.max_length) n2 = n1;
      else n2 = std::max(n1, p.max_length - n1);
      if (n1 + n2 > p.max_length) {
        n1 = p.max_length / 2;
        n2 = n1 + p.max_length % 2;
      }
      if (swap) std::swap(n1, n2);
      enc.truncate(n1, p.stride, p.direction);
      pair->truncate(n2, p.stride, p.direction);
    } else {
      enc.truncate(total - to_remove, p.stride, p.direction);
    }
  } else {
    Encoding* target = &enc;
    if (p.strategy == TruncationStrategy::OnlySecond) {
      IA_CHECK(pair != nullptr, "truncation: only_second requires a second sequence");
      target = pair;
    }
    size_t len = target->size();
    IA_CHECK(len > to_remove, "truncation: the sequence to truncate is too short to respect max_length");
    target->truncate(len - to_remove, p.stride, p.direction);
  }
}

void pad_encodings(std::vector<Encoding>& encs, const PaddingParams& p) {
  if (encs.empty()) return;
  size_t len = 0;
  if (p.fixed_length) len = *p.fixed_length;
  else
    for (auto& e : encs) len = std::max(len, e.size());
  if (p.pad_to_multiple_of && *p.pad_to_multiple_of > 0 && len % *p.pad_to_multiple_of)
    len += *p.pad_to_multiple_of - len % *p.pad_to_multiple_of;
  for (auto& e : encs) e.pad(len, p.pad_id, p.pad_type_id, p.pad_token, p.direction);
}

}  // namespace ia::tok
