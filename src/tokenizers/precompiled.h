// SentencePiece `precompiled_charsmap` normalizer: a darts-clone double-array
// trie whose values index a table of NUL-terminated replacement strings.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/normalized_string.h"

namespace ia::tok {

class PrecompiledCharsmap {
 public:
  // `blob` is the decoded binary (u32 trie byte size, trie units, strings); throws ia::Error.
  explicit PrecompiledCharsmap(const std::string& blob);
  // Replacement for `chunk` from the shortest trie entry that prefixes it (the
  // Rust spm_precompiled `transform`), or nullopt.
  std::optional<std::string_view> transform(std::string_view chunk) const;
  // Applies the map grapheme by grapheme as the Rust normalizer does.
  void normalize(NormalizedString& n) const;

 private:
  std::vector<uint32_t> trie_;
  std::string normalized_;
};

std::string base64_decode(const std::string& in);  // throws ia::Error on bad input

}  // namespace ia::tok
