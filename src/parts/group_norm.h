// torch.nn.GroupNorm over NCHW (or any [B, C, *spatial]) activations: statistics per
// (sample, group of C/groups channels), then a per-channel affine. An optional
// activation is fused into the output pass (GroupNorm -> SiLU is everywhere in U-Nets).
#pragma once
#include <cstdint>

#include "backends/cpu/kernels.h"
#include "core/tensor.h"
#include "parts/weights.h"

namespace ia {

struct GroupNorm {
  int64_t groups = 0, channels = 0;
  float eps = 1e-5f;
  Tensor weight, bias;  // [channels] F32, or undefined (affine=False)

  // `w` is the module; reads weight/bias when `affine`. Errors name the module when
  // groups does not divide channels.
  static GroupNorm load(const Weights& w, int64_t groups, int64_t channels, float eps, bool affine = true);
  static GroupNorm from(int64_t groups, float eps, Tensor weight, Tensor bias);

  // x [B, channels, ...] -> same shape, then `act`.
  Tensor forward(const Tensor& x, cpu::Act act = cpu::Act::Identity) const;
  // Raw form: x, y [B, channels, spatial] (may alias).
  void forward(const float* x, int64_t B, int64_t spatial, float* y, cpu::Act act = cpu::Act::Identity) const;
};

}  // namespace ia
