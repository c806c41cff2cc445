#include "parts/rwkv_wkv.h"

#include <algorithm>
#include <cmath>

namespace ia {

void rwkv_wkv(int64_t T, int64_t A, const float* decay, const float* first, const float* k, const float* v, float* num,
              float* den, float* max, float* out) {
  for (int64_t t = 0; t < T; ++t) {
    const float* kt = k + t * A;
    const float* vt = v + t * A;
    float* ot = out + t * A;
    for (int64_t c = 0; c < A; ++c) {
      const float kc = kt[c], vc = vt[c];
      // Output at t: the current token enters with the bonus time_first.
      const float ku = kc + first[c];
      const float m_out = std::max(max[c], ku);
      float e1 = std::exp(max[c] - m_out), e2 = std::exp(ku - m_out);
      ot[c] = (e1 * num[c] + e2 * vc) / (e1 * den[c] + e2);
      // State for t + 1: the past decays by exp(decay), the current token enters plainly.
      const float md = max[c] + decay[c];
      const float m_state = std::max(md, kc);
      e1 = std::exp(md - m_state);
      e2 = std::exp(kc - m_state);
      num[c] = e1 * num[c] + e2 * vc;
      den[c] = e1 * den[c] + e2;
      max[c] = m_state;
    }
  }
}

}  // namespace ia
