#include "parts/selective_scan.h"

#include <cmath>

namespace ia {

float softplus(float x) { return x > 20.f ? x : std::log1p(std::exp(x)); }

void mamba_selective_scan(int64_t T, int64_t I, int64_t N, const float* u, int64_t ld_u, const float* dt,
                          const float* bc, int64_t ld_bc, int64_t b_off, int64_t c_off, const float* A, const float* D,
                          float* h, float* y) {
  for (int64_t t = 0; t < T; ++t) {
    const float* ut = u + t * ld_u;
    const float* dtt = dt + t * I;
    const float* Bt = bc + t * ld_bc + b_off;
    const float* Ct = bc + t * ld_bc + c_off;
    float* yt = y + t * I;
    for (int64_t i = 0; i < I; ++i) {
      const float d = dtt[i], x = ut[i];
      const float* Ai = A + i * N;
      float* hi = h + i * N;
      float acc = 0.f;
      for (int64_t n = 0; n < N; ++n) {
        hi[n] = std::exp(Ai[n] * d) * hi[n] + (d * Bt[n]) * x;
        acc += hi[n] * Ct[n];
      }
      yt[i] = acc + x * D[i];
    }
  }
}

void mamba2_ssd_scan(int64_t T, int64_t H, int64_t P, int64_t N, int64_t G, const float* xbc, int64_t ld_xbc,
                     int64_t b_off, int64_t c_off, const float* dt, const float* A, const float* D, float* h, float* y) {
  const int64_t heads_per_group = H / G;
  for (int64_t t = 0; t < T; ++t) {
    const float* row = xbc + t * ld_xbc;
    const float* dtt = dt + t * H;
    float* yt = y + t * H * P;
    for (int64_t hd = 0; hd < H; ++hd) {
      const int64_t g = hd / heads_per_group;
      const float* Bt = row + b_off + g * N;
      const float* Ct = row + c_off + g * N;
      const float d = dtt[hd];
      const float decay = std::exp(d * A[hd]);
      for (int64_t p = 0; p < P; ++p) {
        const float x = row[hd * P + p];
        float* hp = h + (hd * P + p) * N;
        float acc = 0.f;
        for (int64_t n = 0; n < N; ++n) {
          hp[n] = hp[n] * decay + (d * Bt[n]) * x;
          acc += hp[n] * Ct[n];
        }
        yt[hd * P + p] = acc + x * D[hd];
      }
    }
  }
}

}  // namespace ia
