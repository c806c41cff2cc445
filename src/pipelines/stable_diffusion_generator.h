// A seeded standard-normal generator that follows PyTorch's CPU generator
// (torch.Generator().manual_seed(seed); torch.randn(shape, generator=g)):
// MT19937 words -> 24-bit uniform floats -> Box-Muller in blocks of 16, so a
// diffusers pipeline given the same seed draws the same latents (to float
// rounding of log/sin/cos).
#pragma once
#include <cstdint>
#include <random>

#include "core/tensor.h"

namespace ia {

class TorchLikeGenerator {
 public:
  explicit TorchLikeGenerator(uint64_t seed);
  // torch.randn(shape, dtype=float32, generator=this).
  Tensor randn(const Shape& shape);

 private:
  float uniform_f32();
  double uniform_f64();
  std::mt19937 engine_;
  bool have_cached_ = false;
  double cached_ = 0.0;
};

}  // namespace ia
