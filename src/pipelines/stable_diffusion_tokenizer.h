// The CLIP tokenizer of a diffusers pipeline directory (tokenizer/vocab.json +
// merges.txt + tokenizer_config.json, the files CLIPTokenizer reads): converted
// in memory to the tokenizer.json that transformers' CLIPConverter builds, then
// run by ia::Tokenizer. Encodes prompts as the pipelines do: padding to
// model_max_length, truncation.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ia {
class Tokenizer;

class PromptTokenizer {
 public:
  // `dir` is the pipeline's tokenizer/ folder.
  static PromptTokenizer load(const std::string& dir);
  PromptTokenizer(PromptTokenizer&&) noexcept;
  PromptTokenizer& operator=(PromptTokenizer&&) noexcept;
  ~PromptTokenizer();

  // tokenizer(text, padding="max_length", max_length, truncation=True).input_ids
  // (`attention_mask`, when given, receives 1 for tokens and 0 for padding.)
  std::vector<int64_t> encode_padded(const std::string& text, int64_t max_length,
                                     std::vector<int64_t>* attention_mask = nullptr) const;
  int64_t model_max_length() const { return model_max_length_; }

 private:
  PromptTokenizer() = default;
  std::unique_ptr<Tokenizer> tok_;
  int64_t model_max_length_ = 77;
  uint32_t pad_id_ = 0;
};

// The tokenizer.json text CLIPConverter would produce from these files (exposed for tests).
std::string clip_tokenizer_json_from_files(const std::string& dir);

}  // namespace ia
