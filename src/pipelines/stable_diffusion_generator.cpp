#include "pipelines/stable_diffusion_generator.h"

#include <cmath>

namespace ia {

TorchLikeGenerator::TorchLikeGenerator(uint64_t seed) : engine_(uint32_t(seed & 0xffffffffu)) {}

// at::uniform_real_distribution<float>: the low 24 bits of one 32-bit word.
float TorchLikeGenerator::uniform_f32() {
  const uint32_t x = engine_();
  return float(x & ((1u << 24) - 1)) * std::ldexp(1.0f, -24);
}

// at::uniform_real_distribution<double>: the low 53 bits of a 64-bit draw (two words).
double TorchLikeGenerator::uniform_f64() {
  const uint64_t hi = engine_(), lo = engine_();
  const uint64_t x = (hi << 32) | lo;
  return double(x & ((uint64_t(1) << 53) - 1)) * std::ldexp(1.0, -53);
}

Tensor TorchLikeGenerator::randn(const Shape& shape) {
  Tensor t = Tensor::f32(shape);
  float* d = t.f32();
  const int64_t n = t.numel();
  if (n >= 16) {
    // normal_fill: uniforms for the whole tensor, then Box-Muller on each block of 16
    // (the last, possibly overlapping block is refilled and transformed again).
    auto fill16 = [](float* p) {
      for (int j = 0; j < 8; ++j) {
        const float u1 = 1.0f - p[j];
        const float u2 = p[j + 8];
        const float radius = std::sqrt(-2.0f * std::log(u1));
        const float theta = 2.0f * float(M_PI) * u2;
        p[j] = radius * std::cos(theta);
        p[j + 8] = radius * std::sin(theta);
      }
    };
    for (int64_t i = 0; i < n; ++i) d[i] = uniform_f32();
    for (int64_t i = 0; i + 16 <= n; i += 16) fill16(d + i);
    if (n % 16 != 0) {
      float* tail = d + n - 16;
      for (int j = 0; j < 16; ++j) tail[j] = uniform_f32();
      fill16(tail);
    }
    return t;
  }
  // Small tensors: at::normal_distribution<double>, which caches the second Box-Muller value.
  for (int64_t i = 0; i < n; ++i) {
    if (have_cached_) {
      have_cached_ = false;
      d[i] = float(cached_);
      continue;
    }
    const double u1 = uniform_f64(), u2 = uniform_f64();
    const double r = std::sqrt(-2.0 * std::log1p(-u2));
    const double theta = 2.0 * M_PI * u1;
    cached_ = r * std::sin(theta);
    have_cached_ = true;
    d[i] = float(r * std::cos(theta));
  }
  return t;
}

}  // namespace ia
