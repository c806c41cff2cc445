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

}  // namespace ia
