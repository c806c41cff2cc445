// Tokenization models of tokenizer.json ("model"): BPE, WordPiece, Unigram,
// WordLevel. Each turns one pre-token into tokens with byte offsets.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tokenizers/encoding.h"

namespace ia::tok {

struct JPath;

class Model {
 public:
  virtual ~Model() = default;
  virtual std::vector<Token> tokenize(const std::string& sequence) const = 0;
  virtual std::optional<uint32_t> token_to_id(const std::string& token) const = 0;
  virtual std::optional<std::string> id_to_token(uint32_t id) const = 0;
  virtual size_t vocab_size() const = 0;
};

std::unique_ptr<Model> model_from_json(const nlohmann::json& j, const JPath& where);

// Per-kind constructors (one file each).
std::unique_ptr<Model> bpe_from_json(const nlohmann::json& j, const JPath& where);
std::unique_ptr<Model> wordpiece_from_json(const nlohmann::json& j, const JPath& where);
std::unique_ptr<Model> unigram_from_json(const nlohmann::json& j, const JPath& where);
std::unique_ptr<Model> wordlevel_from_json(const nlohmann::json& j, const JPath& where);

}  // namespace ia::tok
