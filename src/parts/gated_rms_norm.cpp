#include "parts/gated_rms_norm.h"

#include <cmath>

namespace ia {

void gated_rms_norm(const float* x, const float* gate, int64_t ld_gate, int64_t rows, int64_t n, int64_t group,
                    const float* w, float eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    const float* gr = gate + r * ld_gate;
    float* yr = y + r * n;
    for (int64_t i = 0; i < n; ++i) {
      const float g = gr[i];
      yr[i] = xr[i] * (g / (1.f + std::exp(-g)));
    }
    for (int64_t g0 = 0; g0 < n; g0 += group) {
      double ss = 0.0;
      for (int64_t i = g0; i < g0 + group; ++i) ss += double(yr[i]) * yr[i];
      const float inv = 1.f / std::sqrt(float(ss / double(group)) + eps);
      for (int64_t i = g0; i < g0 + group; ++i) yr[i] = w[i] * (yr[i] * inv);
    }
  }
}

}  // namespace ia
