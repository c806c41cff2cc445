// The multimodal pipeline template (LLaVA): image-text-to-text.
// The conversation is one user turn holding the image and the question, rendered by
// the tokenizer's chat template when it has one, else the llava-1.5 format
// "USER: <image>\n{prompt} ASSISTANT:"; it is tokenized with special tokens and must
// hold one image token (config.image_token_index). Generation runs through
// generate_text on the model's ImagePromptDecoder: greedy or sampled as the
// generation config / request says, stop strings, EOS, streamed text pieces.
// Result key "generated_text" (new tokens decoded without special tokens), plus
// "new_token_ids", "finish_reason" and "decoding".
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "pipelines/image_pipeline.h"

namespace ia {

// The prompt text sent to the tokenizer for one image and a user question.
std::string llava_prompt(const std::string& question);

class MultimodalPipeline {
 public:
  explicit MultimodalPipeline(const std::string& model_dir);
  nlohmann::json run(const VisionRequest& req);  // never throws
  Model& model() { return *model_; }

 private:
  std::string dir_;
  ModelContext ctx_;
  std::unique_ptr<Model> model_;
  ImageProcessor proc_;
};

}  // namespace ia
