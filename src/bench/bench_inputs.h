// Small pieces every benchmark runner shares: a monotonic clock, rounding for
// the JSON report, and deterministic synthetic inputs (a cheap LCG is enough:
// benchmark inputs only need to be reproducible, not random).
#pragma once
#include <chrono>
#include <cmath>
#include <cstdint>

#include "core/tensor.h"

namespace ia::bench {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double round_to(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

// The LCG stream behind the synthetic inputs.
struct InputStream {
  explicit InputStream(uint64_t seed) : s(seed * 6364136223846793005ull + 1442695040888963407ull) {}
  uint64_t next() { return s = s * 6364136223846793005ull + 1442695040888963407ull; }
  uint64_t s;
};

// F32 values in [-1, 1) (the range of normalised pixels and log-mel features).
inline Tensor uniform_f32(Shape shape, uint64_t seed) {
  Tensor t = Tensor::f32(std::move(shape));
  InputStream g(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = float(double(g.next() >> 40) / double(1ull << 24)) * 2.f - 1.f;
  return t;
}

}  // namespace ia::bench
