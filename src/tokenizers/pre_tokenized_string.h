// PreTokenizedString: the input split into pieces (each a NormalizedString,
// optionally already tokenized, e.g. an added token), as pre-tokenizers and the
// model see it; produces the Encoding with offsets into the original text.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tokenizers/encoding.h"
#include "tokenizers/normalized_string.h"

namespace ia::tok {

struct Split {
  NormalizedString normalized;
  std::optional<std::vector<Token>> tokens;
};

class PreTokenizedString {
 public:
  explicit PreTokenizedString(const std::string& text);
  std::string original;
  std::vector<Split> splits;

  // Replaces every not-yet-tokenized split by the (non-empty) pieces `fn` returns.
  void split(const std::function<std::vector<Split>(size_t, NormalizedString&&)>& fn);
  void split_plain(const std::function<std::vector<NormalizedString>(size_t, NormalizedString&&)>& fn);
  void normalize(const std::function<void(NormalizedString&)>& fn);
  void tokenize(const std::function<std::vector<Token>(const std::string&)>& fn);
  // Tokenizes until max_tokens are reached from the given side, dropping the rest.
  void tokenize_with_limit(const std::function<std::vector<Token>(const std::string&)>& fn, size_t max_tokens,
                           TruncationDirection dir);
  // Builds the Encoding; offsets are code points of `original`. `word_idx`
  // overrides the per-split word index.
  Encoding into_encoding(std::optional<uint32_t> word_idx, uint32_t type_id) &&;
};

}  // namespace ia::tok
