// NormalizedString: the text being normalized together with, for every byte of
// the normalized text, the byte range of the original text it comes from. This
// is how offsets into the original input survive normalization (the design of
// Hugging Face `tokenizers`, whose semantics this mirrors exactly).
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizers/unicode.h"

namespace ia::tok {

using Range = std::pair<size_t, size_t>;  // [start, end) in bytes

// One piece of a pattern search: a byte range and whether it matched.
struct PatternPiece {
  size_t start, end;
  bool is_match;
};
using Pattern = std::function<std::vector<PatternPiece>(const std::string&)>;
// Pattern helpers: every char satisfying `pred` is one match.
std::vector<PatternPiece> find_char_matches(const std::string& s, const std::function<bool(char32_t)>& pred);
std::vector<PatternPiece> invert_matches(std::vector<PatternPiece> v);

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
SplitBehavior split_behavior_from_name(const std::string& name);  // throws ia::Error

class NormalizedString {
 public:
  NormalizedString() = default;
  explicit NormalizedString(std::string s);

  const std::string& get() const { return normalized_; }
  const std::string& original() const { return original_; }
  size_t len() const { return normalized_.size(); }
  bool empty() const { return normalized_.empty(); }
  Range offsets_original() const { return {shift_, shift_ + original_.size()}; }

  // Normalized byte range -> original byte range (relative to this string).
  std::optional<Range> normalized_to_original(Range r) const;
  // Original byte range -> normalized byte range.
  std::optional<Range> original_to_normalized(Range r) const;
  // Sub-string for a normalized byte range (must be on char boundaries).
  std::optional<NormalizedString> slice_normalized(Range r) const;

  // Replaces the normalized bytes in `r` by the chars of `dest`; `initial_offset`
  // chars at the start of the range are removed first.
  void transform_range(Range r, const std::vector<CharChange>& dest, size_t initial_offset);
  void transform(const std::vector<CharChange>& dest, size_t initial_offset);

  void nfd() { normalize_form(uni::NormForm::NFD); }
  void nfkd() { normalize_form(uni::NormForm::NFKD); }
  void nfc() { normalize_form(uni::NormForm::NFC); }
  void nfkc() { normalize_form(uni::NormForm::NFKC); }
  void filter(const std::function<bool(char32_t)>& keep);
  void map(const std::function<char32_t(char32_t)>& f);
  void prepend(const std::string& s);
  void lowercase();
  void lrstrip(bool left, bool right);
  // Replaces every byte by the char `table[byte]` (UTF-8 encoded); each output
  // char keeps the alignment of its source char. Same result as transform()
  // with change 0 for a char's first byte and +1 for the others, done in one pass.
  void map_bytes(const std::string (&table)[256]);
  // Replaces every match of `pattern` by `content`.
  void replace(const Pattern& pattern, const std::string& content);
  std::vector<NormalizedString> split(const Pattern& pattern, SplitBehavior behavior) const;

 private:
  void normalize_form(uni::NormForm f);
  std::string original_;
  std::string normalized_;
  std::vector<Range> align_;
  size_t shift_ = 0;
};

}  // namespace ia::tok
