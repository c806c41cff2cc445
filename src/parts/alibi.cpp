#include "parts/alibi.h"

#include <cmath>

#include "core/error.h"

namespace ia {

std::vector<float> alibi_slopes(int64_t n_heads) {
  IA_CHECK(n_heads > 0, "alibi: number of heads must be positive, got ", n_heads);
  int64_t closest = 1;
  while (closest * 2 <= n_heads) closest *= 2;
  // base = 2 ** (-(2 ** -(log2(closest) - 3))) as a float32 tensor; slopes = base ** k.
  auto series = [](int64_t pow2, int64_t first, int64_t step, int64_t count, std::vector<float>& out) {
    float base = float(std::pow(2.0, -std::pow(2.0, -(std::log2(double(pow2)) - 3.0))));
    for (int64_t i = 0; i < count; ++i) out.push_back(std::pow(base, float(first + i * step)));
  };
  std::vector<float> s;
  series(closest, 1, 1, closest, s);
  if (closest != n_heads) {
    int64_t remaining = std::min(closest, n_heads - closest);
    series(2 * closest, 1, 2, remaining, s);
  }
  return s;
}

void alibi_positions_from_mask(const int64_t* mask, int64_t n, float* out) {
  int64_t c = 0;
  for (int64_t j = 0; j < n; ++j) {
    c += mask[j];
    out[j] = float((c - 1) * mask[j]);
  }
}

}  // namespace ia
