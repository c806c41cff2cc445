// The vision-text pipeline template (CLIP):
//   zero-shot-image-classification -> "similarity": {labels, scores (softmax of logits_per_image),
//                                     highest_idx, highest_match, logits_per_image}; the candidate
//                                     labels go through the hypothesis template ("a photo of {}.")
//   image-text-similarity          -> "similarity" as above for the texts as given, plus the
//                                     cosine similarity of the normalised embeddings
//   image-feature-extraction       -> "embeddings": image_embeds (L2-normalised, as CLIPModel returns)
//   feature-extraction             -> "embeddings": text_embeds
//   image-classification           -> "classifications" (CLIPForImageClassification)
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "pipelines/image_pipeline.h"
#include "tokenizers/tokenizer.h"

namespace ia {

class VisionTextPipeline {
 public:
  explicit VisionTextPipeline(const std::string& model_dir);
  nlohmann::json run(const VisionRequest& req);  // never throws
  Model& model() { return *model_; }

 private:
  // Right-padded input_ids / attention_mask [B, T] for `texts`.
  TensorMap encode_texts(const std::vector<std::string>& texts) const;
  nlohmann::json similarity(const VisionRequest& req, bool zero_shot);

  std::string dir_;
  ModelContext ctx_;
  std::unique_ptr<Model> model_;
  ImageProcessor proc_;
};

}  // namespace ia
