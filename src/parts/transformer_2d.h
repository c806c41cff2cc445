// diffusers Transformer2DModel for continuous (NCHW) inputs with BasicTransformerBlocks
// (transformers/transformer_2d.py, attention.py), as in Stable Diffusion U-Nets:
//   GroupNorm(eps 1e-6) -> proj_in (1x1 conv, or Linear with use_linear_projection)
//   -> blocks [LayerNorm + self-attn (cross-attn when only_cross_attention), LayerNorm +
//      cross-attn on encoder_hidden_states, LayerNorm + GEGLU feed-forward; residuals]
//   -> proj_out -> + input.
// A 1x1 conv applied per pixel is the same product as a Linear over token rows, so both
// projection layouts run as Linear on [B, H*W, C].
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "parts/diffusers_attention.h"
#include "parts/group_norm.h"
#include "parts/nn.h"
#include "parts/weights.h"

namespace ia {

struct Transformer2DSpec {
  int64_t in_channels = 0;
  int64_t heads = 1, head_dim = 0;  // inner dim = heads * head_dim
  int64_t num_layers = 1;
  int64_t cross_attention_dim = 0;  // 0 = no cross-attention (attn2 absent)
  int64_t norm_num_groups = 32;
  bool use_linear_projection = false;
  bool only_cross_attention = false;
  float norm_eps = 1e-5f;  // the blocks' LayerNorms
};

struct BasicTransformerBlock {
  LayerNorm norm1, norm2, norm3;
  DiffusersAttention attn1, attn2;
  bool has_attn2 = false, only_cross_attention = false;
  Linear ff_in;   // GEGLU projection: dim -> 2 * inner (hidden | gate)
  Linear ff_out;  // inner -> dim
  int64_t ff_inner = 0;

  static BasicTransformerBlock load(const Weights& w, int64_t dim, const Transformer2DSpec& spec);
  // x [B, T, dim] (updated in place); context [B, S, cross_attention_dim] or null.
  void forward(Tensor& x, const Tensor* context) const;
};

struct Transformer2D {
  Transformer2DSpec spec;
  GroupNorm norm;
  Linear proj_in, proj_out;
  std::vector<BasicTransformerBlock> blocks;

  static Transformer2D load(const Weights& w, const Transformer2DSpec& spec);
  // x [B, in_channels, H, W]; encoder_hidden_states [B, S, cross_attention_dim] (or undefined
  // when there is no cross-attention) -> [B, in_channels, H, W].
  Tensor forward(const Tensor& x, const Tensor& encoder_hidden_states) const;
};

}  // namespace ia
