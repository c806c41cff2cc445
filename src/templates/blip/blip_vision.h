// BlipVisionModel: patch embedding + class token + learned positions, pre-norm
// transformer layers (fused qkv), post_layernorm — built from the shared ViT-style
// parts (parts/vision_embeddings, parts/vision_encoder). Also gives the pooled
// output (post_layernorm applied again to the class token, as transformers does).
#pragma once
#include "parts/nn.h"
#include "parts/vision_embeddings.h"
#include "parts/vision_encoder.h"
#include "templates/blip/blip_params.h"

namespace ia {

class BlipVisionModel {
 public:
  BlipVisionModel(const BlipVisionParams& p, const Weights& w);  // w = "vision_model"
  // pixel_values [B, 3, image_size, image_size] -> last_hidden_state [B, 1 + patches, hidden] (post-norm)
  Tensor forward(const Tensor& pixel_values) const;
  // pooler_output [B, hidden] from a last_hidden_state
  Tensor pool(const Tensor& last_hidden_state) const;
  int64_t hidden() const { return p_.hidden; }

 private:
  BlipVisionParams p_;
  PatchEmbeddings embeddings_;
  VisionEncoder encoder_;
  LayerNorm post_ln_;
};

}  // namespace ia
