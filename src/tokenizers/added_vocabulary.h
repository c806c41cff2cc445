// Added tokens (tokenizer.json "added_tokens"): found in the text before the
// model runs — non-normalized ones on the raw text, normalized ones on the
// normalized text — honouring single_word / lstrip / rstrip.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizers/models.h"
#include "tokenizers/normalizers.h"
#include "tokenizers/pre_tokenized_string.h"

namespace ia::tok {

struct AddedToken {
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
};

class AddedVocabulary {
 public:
  // Adds tokens in order; ids come from the model vocabulary or follow it.
  void add_tokens(const std::vector<AddedToken>& tokens, const Model& model, const Normalizer* normalizer);
  // Splits out added tokens and normalizes the rest (one split per section).
  PreTokenizedString extract_and_normalize(const Normalizer* normalizer, const std::string& text) const;

  std::optional<uint32_t> token_to_id(const std::string& t) const;
  // Token string of an added id (the normalized form for normalized tokens).
  std::optional<std::string> id_to_token(uint32_t id) const;
  bool is_special(const std::string& content) const { return special_.count(content) > 0; }
  const std::map<uint32_t, AddedToken>& tokens() const { return by_id_; }
  bool encode_special_tokens = false;  // when true, special tokens are not split out

 private:
  struct Trie {
    std::vector<std::unordered_map<unsigned char, uint32_t>> next{1};
    std::vector<int64_t> value{-1};
    void insert(const std::string& s, uint32_t id);
    bool empty() const { return next.size() == 1; }
  };
  struct Piece {
    std::optional<uint32_t> id;
    size_t start, end;
  };
  std::vector<Piece> find_matches(const std::string& s, const Trie& trie) const;
  std::vector<Split> split_with_indices(NormalizedString&& n, const Trie& trie) const;
  void refresh();

  std::unordered_map<std::string, uint32_t> by_content_;
  std::map<uint32_t, AddedToken> by_id_;
  std::set<std::string> special_;
  std::unordered_map<uint32_t, std::string> normalized_cache_;
  Trie raw_trie_, norm_trie_;
};

}  // namespace ia::tok
