// The vision template: ViTModel (last_hidden_state, tanh pooler over the CLS token)
// and ViTForImageClassification (linear classifier over the CLS token of the
// final-LayerNorm output). Pre-norm encoder from parts/vision_encoder.h.
#pragma once
#include <memory>

#include "templates/model.h"

namespace ia {

std::unique_ptr<Model> make_vit_model(const ModelContext& ctx);

}  // namespace ia
