// SamModel: image encoder + prompt encoder + mask decoder, with the
// `image_embeddings` entry point that skips the encoder (SamPredictor-style
// reuse of one image's embeddings for several prompts).
#pragma once
#include <memory>

#include "templates/model.h"
#include "templates/sam/sam_mask_decoder.h"
#include "templates/sam/sam_params.h"
#include "templates/sam/sam_prompt_encoder.h"
#include "templates/sam/sam_vision_encoder.h"

namespace ia {

class SamModel : public Model {
 public:
  explicit SamModel(const ModelContext& ctx);
  const std::string& model_type() const override { return model_type_; }
  Family family() const override { return Family::Diffusion; }
  // Inputs: pixel_values [B,3,S,S] or image_embeddings [B,H,h,w]; optional input_points [B,P,N,2],
  // input_labels [B,P,N] (default 1), input_boxes [B,nb,4], input_masks [B,1,4h,4w],
  // multimask_output (scalar, default 1). Outputs: iou_scores, pred_masks (+ image_embeddings).
  TensorMap forward(const TensorMap& inputs) override;
  // Other reference cases run forward; without pixel_values/image_embeddings they reuse the
  // embeddings of the previous call, and `multimask_output=` in the case's call is honoured.
  TensorMap run_case(const std::string& case_name, const TensorMap& inputs, const nlohmann::json& case_info) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override { return {"mask-generation"}; }

  const SamParams& params() const { return p_; }
  // The vision encoder alone (SamModel.get_image_embeddings).
  Tensor image_embeddings(const Tensor& pixel_values) const { return vision_->forward(pixel_values); }

 private:
  std::string model_type_ = "sam";
  SamParams p_;
  SamPositionalEmbedding pe_;
  std::unique_ptr<SamVisionEncoder> vision_;
  std::unique_ptr<SamPromptEncoder> prompt_;
  std::unique_ptr<SamMaskDecoder> decoder_;
  Tensor image_pe_;    // [h*w, H] image-wide positional embedding (constant)
  Tensor last_embeddings_;  // from the most recent call
};

FamilyTemplate sam_template();

}  // namespace ia
