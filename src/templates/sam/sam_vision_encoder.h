// SAM's image encoder (SamVisionEncoder): a ViT-det backbone (patch embedding,
// absolute positions, transformer layers with windowed or global attention and
// decomposed relative positions) followed by the convolutional neck.
#pragma once
#include <cstdint>
#include <vector>

#include "backends/cpu/kernels.h"
#include "parts/conv.h"
#include "parts/nn.h"
#include "templates/sam/sam_ops.h"
#include "templates/sam/sam_params.h"

namespace ia {

class SamVisionEncoder {
 public:
  SamVisionEncoder(const SamVisionParams& p, const Weights& w);  // w = "vision_encoder"
  // pixel_values [B, C, image_size, image_size] -> image embeddings [B, output_channels, grid, grid]
  Tensor forward(const Tensor& pixel_values) const;

 private:
  struct Layer {
    LayerNorm ln1, ln2;
    Linear qkv, proj, lin1, lin2;
    Tensor rel_pos_h, rel_pos_w;  // [2 * size - 1, head_dim] when use_rel_pos
    int64_t window = 0;           // 0 = global
  };
  // Self-attention over `nb` square blocks of side S (windows or the whole grid), rows [nb*S*S, C].
  void attention(const Layer& L, const float* x, int64_t nb, int64_t S, float* out) const;
  void layer_forward(const Layer& L, Tensor& hidden /*[B, G, G, C]*/) const;

  SamVisionParams p_;
  cpu::Act act_;
  Conv2d patch_embed_;
  Tensor pos_embed_;  // [1, G, G, C] or undefined
  std::vector<Layer> layers_;
  Conv2d neck_conv1_, neck_conv2_;
  ChannelsFirstLayerNorm neck_ln1_, neck_ln2_;
};

}  // namespace ia
