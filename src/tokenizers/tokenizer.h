// ia::Tokenizer: a complete Hugging Face tokenizer.json implementation
// (normalizer -> pre-tokenizer -> model -> post-processor, decoder, added
// tokens, truncation and padding), matching the Rust `tokenizers` library.
//
// Input text must be UTF-8; invalid byte sequences are replaced by U+FFFD
// before encoding (as Rust's String::from_utf8_lossy would), never a crash.
// Offsets in the returned Encoding are code-point offsets into that text.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizers/chat_types.h"
#include "tokenizers/encoding.h"

namespace ia {

using tok::Encoding;
using tok::PaddingParams;
using tok::TruncationParams;

class Tokenizer {
 public:
  // Loads tokenizer.json; throws ia::Error naming the file and field on bad input.
  static Tokenizer from_file(const std::string& path);
  // Loads DIR/tokenizer.json plus tokenizer_config.json / special_tokens_map.json if present.
  static Tokenizer from_dir(const std::string& dir);
  // Parses tokenizer.json text; `source` names it in error messages.
  static Tokenizer from_json_string(const std::string& text, const std::string& source);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  Encoding encode(const std::string& text, bool add_special_tokens = true) const;
  Encoding encode_pair(const std::string& text, const std::string& pair, bool add_special_tokens = true) const;
  // Encodes every text and pads the batch if padding is set.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, bool add_special_tokens = true) const;
  std::string decode(const std::vector<uint32_t>& ids, bool skip_special_tokens = false) const;

  std::optional<uint32_t> token_to_id(const std::string& token) const;
  std::optional<std::string> id_to_token(uint32_t id) const;
  // Model vocabulary plus added tokens that are not in it.
  size_t vocab_size() const;

  const std::optional<TruncationParams>& truncation() const;
  const std::optional<PaddingParams>& padding() const;
  void set_truncation(std::optional<TruncationParams> t);
  void set_padding(std::optional<PaddingParams> p);

  // From tokenizer_config.json / special_tokens_map.json (empty if absent).
  std::string bos_token, eos_token, pad_token, unk_token, chat_template;
  std::string sep_token, cls_token, mask_token;
  std::vector<std::string> additional_special_tokens;
  // Every chat template by name (a plain string template is named "default");
  // chat_template above is the "default" one.
  std::vector<std::pair<std::string, std::string>> chat_templates;

  // Renders the chat template as transformers 4.44.2's apply_chat_template(tokenize=False)
  // does (chat_template.cpp). Throws ia::Error when there is no template, the
  // template is malformed or it calls raise_exception.
  std::string apply_chat_template(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                  const ChatTemplateOptions& opt = {}) const;
  // Same, with the conversation as JSON: a list of message objects (any fields,
  // content may be a list of parts); key order is kept.
  std::string apply_chat_template_json(const std::string& messages_json, bool add_generation_prompt,
                                       const ChatTemplateOptions& opt = {}) const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ia
