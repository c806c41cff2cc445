// A multi-turn chat over a TextPipeline: the conversation is rendered with the
// tokenizer's chat template (add_generation_prompt=true), encoded without
// extra special tokens (the template places them, as transformers'
// apply_chat_template(tokenize=True) does), and each reply is appended as an
// assistant message.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "pipelines/text_pipeline.h"
#include "tokenizers/chat_types.h"

namespace ia {

class ChatSession {
 public:
  explicit ChatSession(TextPipeline& pipe, ChatTemplateOptions opt = {});

  // Replaces the conversation: a JSON list of messages or {"messages": [...]}.
  // `source` names the text in errors.
  void set_messages_json(const std::string& text, const std::string& source);
  void add(const std::string& role, const std::string& content);
  // Puts a system message first (replacing an existing first system message).
  void set_system(const std::string& content);
  bool empty() const { return messages_.empty(); }
  const nlohmann::ordered_json& messages() const { return messages_; }

  // The prompt the next reply is generated from.
  std::string prompt() const;
  // Generates the assistant's reply and appends it; returns the text-generation
  // result plus "prompt" and "messages" (the conversation including the reply).
  // Throws ia::Error when the template or generation fails.
  nlohmann::json reply(GenerationSettings g, const std::function<void(const std::string&)>& on_text);

 private:
  TextPipeline& pipe_;
  ChatTemplateOptions opt_;
  nlohmann::ordered_json messages_ = nlohmann::ordered_json::array();
};

}  // namespace ia
