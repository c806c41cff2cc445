// LayerNorm loading that accepts TensorFlow-era parameter names: many BERT-family
// checkpoints converted from TF store LayerNorm.gamma / LayerNorm.beta, which
// transformers renames to weight / bias when loading.
#pragma once
#include <cstdint>

#include "parts/nn.h"
#include "parts/weights.h"

namespace ia {

LayerNorm load_encoder_layer_norm(const Weights& w, int64_t n, float eps);

}  // namespace ia
