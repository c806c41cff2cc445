// The multimodal template: LlavaForConditionalGeneration (transformers 4.44.2).
// CLIP vision tower -> hidden_states[vision_feature_layer] (CLS dropped for the
// "default" strategy) -> multi_modal_projector (linear, act, linear) -> merged into
// the token embeddings (llava_merge.h) -> the decoder-only template's language model.
// Generation keeps 4.44's cached decode rule: at every step the key mask over the
// cache is rebuilt from which layer-0 keys are exactly zero, and the new position is
// the number of attended entries.
#pragma once
#include <memory>

#include "templates/model.h"

namespace ia {

std::unique_ptr<Model> make_llava_model(const ModelContext& ctx);

// A StepDecoder whose next prefill() may take an image prompt (LLaVA): the pixel values'
// features are merged at the prompt's image tokens, and the decode steps that follow
// keep 4.44's image-prompt rule. Pipelines sample and stream through it like any text model.
class ImagePromptDecoder {
 public:
  virtual ~ImagePromptDecoder() = default;
  // pixel_values [num_images, 3, H, W] for the next prefill() only.
  virtual void set_prompt_image(const Tensor& pixel_values) = 0;
  // generate()'s EOS ids: generation_config.json, else config.json, else the text config.
  virtual std::vector<int64_t> generation_eos_ids() const = 0;
};

}  // namespace ia
