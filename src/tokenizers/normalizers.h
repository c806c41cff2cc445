// Normalizers of tokenizer.json ("normalizer"): NFC/NFD/NFKC/NFKD, Lowercase,
// StripAccents, BertNormalizer, Replace, Prepend, Strip, Precompiled, Nmt,
// ByteLevel, Sequence.
#pragma once
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "tokenizers/normalized_string.h"

namespace ia::tok {

struct JPath;

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& n) const = 0;
};

// Builds a normalizer from its JSON (null -> nullptr); throws ia::Error naming `where`.
std::unique_ptr<Normalizer> normalizer_from_json(const nlohmann::json& j, const JPath& where);

}  // namespace ia::tok
