// Plain data for chat templates (kept apart from tokenizer.h's heavier parts).
#pragma once
#include <string>

namespace ia {

struct ChatMessage {
  std::string role, content;
};

struct ChatTemplateOptions {
  std::string template_name;   // a named template from tokenizer_config.json; "" = transformers' choice
  std::string template_text;   // a template to use instead of the tokenizer's ("" = none)
  std::string tools_json;      // JSON list of tool schemas, passed as `tools` ("" = None)
  std::string documents_json;  // JSON list of documents, passed as `documents` ("" = None)
  std::string extra_json;      // JSON object of further template variables (override special tokens)
};

}  // namespace ia
