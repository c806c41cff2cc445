// The blip architecture template: BlipModel (contrastive image/text embeddings)
// and BlipForConditionalGeneration (vision encoder + BLIP text decoder with
// cross-attention; forward logits and greedy captioning as 4.44's generate does).
#pragma once
#include <memory>
#include <optional>

#include "templates/blip/blip_params.h"
#include "templates/blip/blip_text.h"
#include "templates/blip/blip_vision.h"
#include "templates/model.h"

namespace ia {

class BlipModel : public Model {
 public:
  explicit BlipModel(const ModelContext& ctx);
  const std::string& model_type() const override { return model_type_; }
  Family family() const override { return Family::VisionText; }
  // BlipModel: input_ids, attention_mask?, pixel_values -> text_embeds, image_embeds,
  //   logits_per_image, logits_per_text, vision_last_hidden_state, text_last_hidden_state.
  // BlipForConditionalGeneration: pixel_values, input_ids, attention_mask? -> logits, image_embeds.
  TensorMap forward(const TensorMap& inputs) override;
  // Captioning: pixel_values, input_ids? (prompt as the processor makes it, ending in [SEP]),
  // attention_mask?. Replaces ids[:, 0] by bos, drops the last token, stops at sep_token_id.
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override;

  bool is_captioning() const { return captioning_; }
  const BlipParams& params() const { return p_; }

 private:
  std::string model_type_ = "blip";
  BlipParams p_;
  bool captioning_ = false;
  std::unique_ptr<BlipVisionModel> vision_;
  std::unique_ptr<BlipTextModel> text_;
  std::unique_ptr<BlipLMHead> lm_head_;
  Linear visual_projection_, text_projection_;
  float logit_scale_ = 0.f;
};

FamilyTemplate blip_template();

}  // namespace ia
