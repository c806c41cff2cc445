// The image-to-text (captioning) pipeline for BLIP: an image and an optional
// text prompt in, the generated caption out, as transformers' ImageToTextPipeline
// does it (processor pixels + tokenized prompt, model.generate, decode with
// skip_special_tokens). BlipForQuestionAnswering checkpoints answer the prompt
// as a question instead ("visual_qa": [{"answer": ...}]).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "templates/model.h"
#include "tokenizers/tokenizer.h"

namespace ia {

struct CaptionRequest {
  std::string image;                    // file path, or "-" for stdin
  std::string prompt;                   // optional text the caption continues; VQA: the question
  std::optional<int64_t> max_new_tokens;  // default: up to the decoder's max_length of 20 tokens
};

class CaptioningPipeline {
 public:
  explicit CaptioningPipeline(const std::string& model_dir);
  ~CaptioningPipeline();
  // {"success": true, "caption": [{"generated_text": ...}], ...}; never throws.
  nlohmann::json run(const CaptionRequest& req);

 private:
  nlohmann::json run_or_throw(const CaptionRequest& req);
  std::string dir_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tok_;
};

}  // namespace ia
