// Pre-tokenizers of tokenizer.json ("pre_tokenizer"): ByteLevel, Whitespace,
// WhitespaceSplit, BertPreTokenizer, Metaspace, Split, Punctuation, Digits,
// CharDelimiterSplit, FixedLength, Sequence.
#pragma once
#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "tokenizers/pre_tokenized_string.h"

namespace ia::tok {

struct JPath;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenizedString& p) const = 0;
};

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const nlohmann::json& j, const JPath& where);

// The GPT-2 byte-level split (shared with the ByteLevel post-processor tests).
std::vector<PatternPiece> byte_level_regex_matches(const std::string& s);

}  // namespace ia::tok
