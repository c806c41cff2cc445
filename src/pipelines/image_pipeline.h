// The image pipeline template (vision family: ViT, CLIP's vision tower) and the
// request type shared with the vision-text and multimodal pipelines.
//   image-classification      -> "classifications": top-k [{label, score}] (softmax of logits, id2label)
//   image-feature-extraction  -> "embeddings": one vector per image (CLS token of the final
//                                 hidden states; image_embeds where the model projects them)
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipelines/text_generation.h"
#include "preprocess/image_processor.h"
#include "templates/model.h"

namespace ia {

struct VisionRequest {
  std::string task;                           // empty = the model's first task
  std::vector<std::string> images;            // image inputs (see image_input.h)
  std::vector<std::string> candidate_labels;  // zero-shot labels / similarity texts
  std::string hypothesis_template = "a photo of {}.";
  std::string prompt;                         // image-text-to-text
  int64_t top_k = 5;
  int64_t max_new_tokens = -1;                // -1: generation_config / 20
  // image-text-to-text: sampling, stop strings, EOS (default: generation_defaults of the
  // model's generation_config.json; max_new_tokens above still overrides), and text
  // pieces streamed as they are decoded.
  std::optional<GenerationSettings> generation;
  std::function<void(const std::string&)> on_text;
};

// pixel_values [N, 3, H, W] for the request's images through the model's image processor.
Tensor load_pixel_values(const ImageProcessor& proc, const std::vector<std::string>& images);
// Top-k softmax labels per image from logits [N, num_labels] and config.json's id2label.
nlohmann::json classify_from_logits(const Tensor& logits, const HFConfig& config, int64_t top_k);
// Picks the task: the request's (checked against the model's tasks) or the model's first one.
std::string choose_task(const std::string& requested, const std::vector<std::string>& tasks, const std::string& who);

class ImagePipeline {
 public:
  explicit ImagePipeline(const std::string& model_dir);
  // Never throws: failures become {"success": false, "error": ...}.
  nlohmann::json run(const VisionRequest& req);
  Model& model() { return *model_; }

 private:
  ModelContext ctx_;
  std::unique_ptr<Model> model_;
  ImageProcessor proc_;
};

}  // namespace ia
