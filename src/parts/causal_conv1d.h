// Depthwise causal 1-D convolution over time (Mamba's conv1d with
// padding = kernel - 1, cut to the sequence length) that carries the last
// kernel - 1 inputs as state, so a sequence fed in pieces gives exactly the
// outputs of one pass.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "parts/weights.h"

namespace ia {

struct CausalConv1d {
  Tensor weight_t;  // [kernel, channels] F32 (transposed from torch's [channels, 1, kernel])
  Tensor bias;      // [channels] or undefined
  int64_t channels = 0, kernel = 0;

  // `w` is the conv module (reads "weight" [channels, 1, kernel] and, if `bias`, "bias").
  static CausalConv1d load(const Weights& w, int64_t channels, int64_t kernel, bool bias);
  // Floats of carried state per batch row: the previous kernel - 1 inputs, [kernel - 1, channels].
  int64_t state_size() const { return (kernel - 1) * channels; }
  // x: T input rows `ld_x` floats apart (the first `channels` are used); y: [T, channels].
  // `state` holds the inputs before x (zeros at the start of a sequence) and is
  // updated to the last kernel - 1 inputs seen.
  void forward(const float* x, int64_t ld_x, int64_t T, float* state, float* y) const;
};

}  // namespace ia
