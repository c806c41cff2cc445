// The multimodal pipeline template (LLaVA): image-text-to-text.
// The prompt becomes "USER: <image>\n{prompt} ASSISTANT:" (the llava-1.5 format;
// the tokenizer's chat template is not rendered by this build), is tokenized with
// special tokens, and must hold one image token (config.image_token_index) per
// image. Greedy cached generation; result key "generated_text" (new tokens decoded
// without special tokens).
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
