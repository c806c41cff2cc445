// The attention block of U-Net/VAE mid blocks (diffusers Attention built with
// _from_deprecated_attn_block: GroupNorm first, q/k/v/out with biases, residual, then
// division by rescale_output_factor), applied to NCHW feature maps.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "parts/diffusers_attention.h"
#include "parts/group_norm.h"
#include "parts/weights.h"

namespace ia {

struct SpatialSelfAttention {
  GroupNorm group_norm;
  bool has_norm = true;
  DiffusersAttention attn;
  double rescale_output_factor = 1.0;

  // heads = channels / head_dim; norm_groups 0 = no group norm.
  static SpatialSelfAttention load(const Weights& w, int64_t channels, int64_t head_dim, int64_t norm_groups,
                                   float eps, double rescale_output_factor = 1.0);
  Tensor forward(const Tensor& x) const;  // [B, C, H, W] -> same
};

}  // namespace ia
