#include "tokenizers/normalized_string.h"

#include <algorithm>

#include "core/error.h"

namespace ia::tok {

std::vector<PatternPiece> find_char_matches(const std::string& s, const std::function<bool(char32_t)>& pred) {
  if (s.empty()) return {{0, 0, false}};
  std::vector<PatternPiece> out;
  size_t last = 0, i = 0;
  while (i < s.size()) {
    size_t b = i;
    char32_t c = uni::next(s, i);
    if (pred(c)) {
      if (last < b) out.push_back({last, b, false});
      out.push_back({b, i, true});
      last = i;
    }
  }
  if (s.size() > last) out.push_back({last, s.size(), false});
  return out;
}

std::vector<PatternPiece> invert_matches(std::vector<PatternPiece> v) {
  for (auto& p : v) p.is_match = !p.is_match;
  return v;
}

SplitBehavior split_behavior_from_name(const std::string& n) {
  if (n == "Removed") return SplitBehavior::Removed;
  if (n == "Isolated") return SplitBehavior::Isolated;
  if (n == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (n == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (n == "Contiguous") return SplitBehavior::Contiguous;
  fail("unknown split behavior '", n, "'");
}

NormalizedString::NormalizedString(std::string s) : original_(s), normalized_(std::move(s)) {
  align_.reserve(normalized_.size());
  size_t i = 0;
  while (i < normalized_.size()) {
    size_t n = size_t(uni::lead_len(static_cast<unsigned char>(normalized_[i])));
    for (size_t k = 0; k < n; ++k) align_.push_back({i, i + n});
    i += n;
  }
}

std::optional<Range> NormalizedString::normalized_to_original(Range t) const {
  if (t.first == t.second) return t;
  if (t.first > t.second) return std::nullopt;
  if (normalized_.empty() && t.first == 0 && t.second == 0) return Range{0, original_.size()};
  if (t.second > align_.size() || t.first >= align_.size()) return std::nullopt;
  return Range{align_[t.first].first, align_[t.second - 1].second};
}

std::optional<Range> NormalizedString::original_to_normalized(Range t) const {
  if (t.first == t.second) return t;
  if (t.first > t.second) return std::nullopt;
  std::optional<size_t> start, end;
  for (size_t i = 0; i < align_.size(); ++i) {
    const auto& a = align_[i];
    if (!(t.second >= a.second)) break;
    if (!start && t.first <= a.first && a.first != a.second) start = i;
    if (t.second >= a.second) end = i + 1;
  }
  if (start && end) return Range{*start, *end};
  if (start) return Range{*start, *start};
  if (end) return Range{*end, *end};
  return std::nullopt;
}

static bool is_boundary(const std::string& s, size_t i) {
  return i == 0 || i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
}

std::optional<NormalizedString> NormalizedString::slice_normalized(Range r) const {
  if (r.second > normalized_.size() || r.first > r.second) return std::nullopt;
  if (!is_boundary(normalized_, r.first) || !is_boundary(normalized_, r.second)) return std::nullopt;
  auto orig = normalized_to_original(r);
  if (!orig) return std::nullopt;
  NormalizedString out;
  out.original_ = (orig->second <= original_.size() && orig->first <= orig->second)
                      ? original_.substr(orig->first, orig->second - orig->first)
                      : std::string();
  out.normalized_ = normalized_.substr(r.first, r.second - r.first);
  out.align_.reserve(r.second - r.first);
  for (size_t i = r.first; i < r.second; ++i)
    out.align_.push_back({align_[i].first - orig->first, align_[i].second - orig->first});
  out.shift_ = shift_ + orig->first;
  return out;
}

void NormalizedString::transform_range(Range n_range, const std::vector<CharChange>& dest, size_t initial_offset) {
  // Chars being replaced, to follow the byte-size changes.
  std::vector<size_t> replaced;  // byte lengths of the replaced chars
  for (size_t i = n_range.first; i < n_range.second;) {
    size_t b = i;
    uni::next(normalized_, i);
    replaced.push_back(i - b);
  }
  size_t rp = 0;
  size_t initial_removed = 0;
  for (; rp < replaced.size() && rp < initial_offset; ++rp) initial_removed += replaced[rp];
  long offset = long(initial_removed + n_range.first);
  std::vector<Range> new_align;
  new_align.reserve(n_range.second - n_range.first);
  std::string new_text;
  new_text.reserve(n_range.second - n_range.first);
  for (const auto& ch : dest) {
    size_t idx = size_t(offset);
    // Out-of-range indices only arise from inconsistent change lists; clamp
    // instead of reading past the alignments.
    Range a{0, 0};
    if (ch.change > 0) {
      if (idx >= 1 && idx - 1 < align_.size()) a = align_[idx - 1];
      else if (!align_.empty() && idx >= 1) a = align_.back();
    } else if (idx < align_.size()) {
      a = align_[idx];
    } else if (!align_.empty()) {
      a = align_.back();
    }
    size_t replaced_size = 0;
    if (ch.change <= 0 && rp < replaced.size()) replaced_size = replaced[rp++];
    size_t removed = 0;
    if (ch.change < 0)
      for (long k = 0; k < -ch.change && rp < replaced.size(); ++k) removed += replaced[rp++];
    offset += long(replaced_size + removed);
    int n = uni::utf8_len(ch.c);
    for (int k = 0; k < n; ++k) new_align.push_back(a);
    uni::append(new_text, ch.c);
  }
  align_.erase(align_.begin() + long(n_range.first), align_.begin() + long(n_range.second));
  align_.insert(align_.begin() + long(n_range.first), new_align.begin(), new_align.end());
  normalized_.replace(n_range.first, n_range.second - n_range.first, new_text);
}

void NormalizedString::transform(const std::vector<CharChange>& dest, size_t initial_offset) {
  auto r = original_to_normalized({0, original_.size()});
  if (!r) return;
  transform_range(*r, dest, initial_offset);
}

void NormalizedString::normalize_form(uni::NormForm f) {
  auto changes = uni::normalize(normalized_, f);
  transform(changes, 0);
}

void NormalizedString::filter(const std::function<bool(char32_t)>& keep) {
  long removed = 0;
  size_t removed_start = 0;
  std::vector<CharChange> tr;
  tr.reserve(normalized_.size());
  std::optional<char32_t> last;
  for (size_t i = 0; i < normalized_.size();) {
    char32_t c = uni::next(normalized_, i);
    if (keep(c)) {
      if (last) tr.push_back({*last, -removed});
      else removed_start = size_t(removed);
      last = c;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (last) tr.push_back({*last, -removed});
  transform(tr, removed_start);
}

void NormalizedString::map(const std::function<char32_t(char32_t)>& f) {
  std::vector<CharChange> tr;
  tr.reserve(normalized_.size());
  for (size_t i = 0; i < normalized_.size();) tr.push_back({f(uni::next(normalized_, i)), 0});
  transform(tr, 0);
}

void NormalizedString::prepend(const std::string& s) {
  if (normalized_.empty()) return;
  size_t i = 0;
  char32_t first = uni::next(normalized_, i);
  std::vector<CharChange> tr;
  size_t k = 0;
  for (size_t j = 0; j < s.size(); ++k) tr.push_back({uni::next(s, j), k != 0 ? 1L : 0L});
  tr.push_back({first, 1});
  transform_range({0, i}, tr, 0);
}

void NormalizedString::map_bytes(const std::string (&table)[256]) {
  if (normalized_.empty()) return;
  auto whole = original_to_normalized({0, original_.size()});
  if (!whole || whole->first != 0 || whole->second != normalized_.size()) {
    // Unusual alignment state: take the general path.
    std::vector<CharChange> tr;
    for (size_t i = 0; i < normalized_.size();) {
      size_t b = i;
      uni::next(normalized_, i);
      for (size_t k = b; k < i; ++k) {
        size_t j = 0;
        tr.push_back({uni::next(table[static_cast<unsigned char>(normalized_[k])], j), k > b ? 1L : 0L});
      }
    }
    transform(tr, 0);
    return;
  }
  std::string text;
  std::vector<Range> align;
  text.reserve(normalized_.size() * 2);
  align.reserve(normalized_.size() * 2);
  for (size_t i = 0; i < normalized_.size(); ++i) {
    const std::string& rep = table[static_cast<unsigned char>(normalized_[i])];
    // All bytes of a char share one alignment, so the byte's own entry is the char's.
    text += rep;
    align.insert(align.end(), rep.size(), align_[i]);
  }
  normalized_ = std::move(text);
  align_ = std::move(align);
}

void NormalizedString::lowercase() {
  std::vector<CharChange> tr;
  tr.reserve(normalized_.size());
  std::u32string buf;
  for (size_t i = 0; i < normalized_.size();) {
    buf.clear();
    uni::to_lower(uni::next(normalized_, i), buf);
    for (size_t k = 0; k < buf.size(); ++k) tr.push_back({buf[k], k > 0 ? 1L : 0L});
  }
  transform(tr, 0);
}

void NormalizedString::lrstrip(bool left, bool right) {
  std::u32string chars = uni::to_u32(normalized_);
  size_t leading = 0, trailing = 0;
  if (left)
    while (leading < chars.size() && uni::is_whitespace(chars[leading])) ++leading;
  if (right)
    while (trailing < chars.size() && uni::is_whitespace(chars[chars.size() - 1 - trailing])) ++trailing;
  if (leading == 0 && trailing == 0) return;
  size_t count = chars.size();
  std::vector<CharChange> tr;
  for (size_t i = 0; i < count; ++i) {
    if (i < leading || i >= count - trailing) continue;
    // Rust compares with the byte length here (self.len()); mirror it.
    if (i + trailing + 1 == normalized_.size()) tr.push_back({chars[i], -long(trailing)});
    else tr.push_back({chars[i], 0});
  }
  transform(tr, leading);
}

void NormalizedString::replace(const Pattern& pattern, const std::string& content) {
  std::string new_text;
  std::vector<Range> new_align;
  new_text.reserve(normalized_.size());
  new_align.reserve(align_.size());
  size_t last_end = 0;
  std::u32string content_chars = uni::to_u32(content);
  for (const auto& m : pattern(normalized_)) {
    if (!m.is_match) continue;
    new_text.append(normalized_, last_end, m.start - last_end);
    new_align.insert(new_align.end(), align_.begin() + long(last_end), align_.begin() + long(m.start));
    // Every inserted char shares the alignment of the byte before the match end
    // (all replaced chars are removed first), as in the Rust implementation.
    size_t idx = m.end;
    Range a = idx < 1 ? Range{0, 0} : align_[idx - 1];
    for (char32_t c : content_chars) {
      int n = uni::utf8_len(c);
      for (int k = 0; k < n; ++k) new_align.push_back(a);
      uni::append(new_text, c);
    }
    last_end = m.end;
  }
  new_text.append(normalized_, last_end, std::string::npos);
  new_align.insert(new_align.end(), align_.begin() + long(last_end), align_.end());
  normalized_ = std::move(new_text);
  align_ = std::move(new_align);
}

std::vector<NormalizedString> NormalizedString::split(const Pattern& pattern, SplitBehavior behavior) const {
  auto matches = pattern(normalized_);
  struct S { size_t a, b; bool remove; };
  std::vector<S> splits;
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (auto& m : matches) splits.push_back({m.start, m.end, false});
      break;
    case SplitBehavior::Removed:
      for (auto& m : matches) splits.push_back({m.start, m.end, m.is_match});
      break;
    case SplitBehavior::Contiguous: {
      bool prev = false;
      for (auto& m : matches) {
        if (m.is_match == prev && !splits.empty()) splits.back().b = m.end;
        else splits.push_back({m.start, m.end, false});
        prev = m.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool prev = false;
      for (auto& m : matches) {
        if (m.is_match && !prev && !splits.empty()) splits.back().b = m.end;
        else splits.push_back({m.start, m.end, false});
        prev = m.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        if (it->is_match && !prev && !splits.empty()) splits.back().a = it->start;
        else splits.push_back({it->start, it->end, false});
        prev = it->is_match;
      }
      std::reverse(splits.begin(), splits.end());
      break;
    }
  }
  std::vector<NormalizedString> out;
  out.reserve(splits.size());
  for (auto& s : splits) {
    if (s.remove) continue;
    auto sl = slice_normalized({s.a, s.b});
    IA_CHECK(sl.has_value(), "tokenizer: bad split of normalized string");
    out.push_back(std::move(*sl));
  }
  return out;
}

}  // namespace ia::tok
