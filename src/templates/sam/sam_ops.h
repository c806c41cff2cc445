// Small tensor operations SAM needs between its layers (NCHW <-> NHWC moves,
// the channels-first LayerNorm of SamLayerNorm).
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "parts/weights.h"

namespace ia {

// SamLayerNorm(data_format="channels_first"): normalises each pixel over C of [B, C, H, W].
struct ChannelsFirstLayerNorm {
  Tensor weight, bias;  // [C]
  int64_t channels = 0;
  float eps = 1e-6f;
  static ChannelsFirstLayerNorm load(const Weights& w, int64_t channels, float eps);
  void forward_inplace(Tensor& x) const;
};

// [B, C, H, W] -> [B, H, W, C] and back.
Tensor nchw_to_nhwc(const Tensor& x);
Tensor nhwc_to_nchw(const Tensor& x);

}  // namespace ia
