#include "templates/rag/rag_marginalize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace ia {

void log_softmax_rows(float* x, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    float* v = x + r * n;
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) m = std::max(m, v[j]);
    if (!std::isfinite(m)) {
      // All -inf (every token suppressed) or +inf present: torch yields nan/-inf rows; keep them as they are.
      if (m == -std::numeric_limits<float>::infinity()) continue;
    }
    double s = 0.0;
    for (int64_t j = 0; j < n; ++j) s += std::exp(double(v[j] - m));
    const float lse = float(std::log(s));
    for (int64_t j = 0; j < n; ++j) v[j] = (v[j] - m) - lse;
  }
}

void rag_marginalize(const float* logits, const float* doc_scores, int64_t B, int64_t n, int64_t T, int64_t V,
                     float* out, std::vector<float>& work) {
  const int64_t row = T * V;
  if (work.size() < size_t(B * n * row + B * n)) work.resize(size_t(B * n * row + B * n));
  float* lp = work.data();
  float* dl = lp + B * n * row;
  std::memcpy(lp, logits, size_t(B * n * row) * sizeof(float));
  log_softmax_rows(lp, B * n * T, V);
  std::memcpy(dl, doc_scores, size_t(B * n) * sizeof(float));
  log_softmax_rows(dl, B, n);
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < row; ++i) {
      float m = ninf;
      for (int64_t d = 0; d < n; ++d) m = std::max(m, lp[(b * n + d) * row + i] + dl[b * n + d]);
      if (m == ninf) {
        out[b * row + i] = ninf;
        continue;
      }
      double s = 0.0;
      for (int64_t d = 0; d < n; ++d) s += std::exp(double(lp[(b * n + d) * row + i] + dl[b * n + d] - m));
      out[b * row + i] = m + float(std::log(s));
    }
}

}  // namespace ia
