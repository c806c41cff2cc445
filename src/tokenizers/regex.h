// Regular expressions for tokenizer.json patterns. The Rust library compiles
// them with Oniguruma (Ruby syntax); we use PCRE2 in UTF + UCP mode and rewrite
// the escapes whose meaning differs (\s, \w, \h...) to Oniguruma's Unicode
// definitions, so `\p{L}`, `\s+(?!\S)` etc. match the same text.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizers/normalized_string.h"

namespace ia::tok {

class Regex {
 public:
  // `literal`: match the pattern text as is (tokenizer.json {"String": ...}).
  Regex(const std::string& pattern, bool literal);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Non-overlapping matches, left to right, as byte ranges.
  std::vector<Range> find_all(const std::string& text) const;
  // Matches and the gaps between them (the Rust `Pattern::find_matches`).
  std::vector<PatternPiece> find_matches(const std::string& text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  bool literal_;
  void* code_ = nullptr;  // pcre2_code_8*
};

// Rewrites Oniguruma escapes into PCRE2 syntax with the same meaning (exposed for tests).
std::string onig_to_pcre2(const std::string& pattern);

}  // namespace ia::tok
