// BlipVisionModel: patch embedding + class token + learned positions, pre-norm
// transformer layers (fused qkv), post_layernorm. Also gives the pooled output
// (post_layernorm applied again to the class token, as transformers does).
#pragma once
#include <vector>

#include "backends/cpu/kernels.h"
#include "parts/conv.h"
#include "parts/nn.h"
#include "templates/blip/blip_params.h"

namespace ia {

class BlipVisionModel {
 public:
  BlipVisionModel(const BlipVisionParams& p, const Weights& w);  // w = "vision_model"
  // pixel_values [B, 3, H, W] -> last_hidden_state [B, 1 + patches, hidden] (post-norm)
  Tensor forward(const Tensor& pixel_values) const;
  // pooler_output [B, hidden] from a last_hidden_state
  Tensor pool(const Tensor& last_hidden_state) const;
  int64_t hidden() const { return p_.hidden; }

 private:
  struct Layer {
    LayerNorm ln1, ln2;
    Linear qkv, proj, fc1, fc2;
  };
  BlipVisionParams p_;
  cpu::Act act_;
  Conv2d patch_;
  Tensor class_embedding_, position_embedding_;  // [1,1,C], [1, N+1, C]
  std::vector<Layer> layers_;
  LayerNorm post_ln_;
};

}  // namespace ia
