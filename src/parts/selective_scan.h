// State-space scans of the Mamba family, in their recurrent form (exact for any
// split of the sequence into pieces).
//
// Mamba (S6) selective scan, per channel i and state n:
//   h[i,n] <- exp(A[i,n] * dt[t,i]) * h[i,n] + (dt[t,i] * B[t,n]) * u[t,i]
//   y[t,i]  = sum_n h[i,n] * C[t,n] + D[i] * u[t,i]
// Mamba-2 SSD (scalar A per head, B/C shared by the heads of a group):
//   h[h,p,n] <- exp(A[h] * dt[t,h]) * h[h,p,n] + (dt[t,h] * B[t,g(h),n]) * x[t,h,p]
//   y[t,h,p]  = sum_n h[h,p,n] * C[t,g(h),n] + D[h] * x[t,h,p]
// The chunked SSD of the paper computes the same sums blockwise; the recurrence
// is what decoding uses, so prefill, chunked prefill and decode agree exactly.
#pragma once
#include <cstdint>

namespace ia {

// One batch row. u: [T, ld_u] (first I used); dt: [T, I] (after softplus);
// bc: [T, ld_bc] with B at column b_off and C at column c_off (N each);
// A: [I, N] (already -exp(A_log)); D: [I]; h: [I, N] carried; y: [T, I].
void mamba_selective_scan(int64_t T, int64_t I, int64_t N, const float* u, int64_t ld_u, const float* dt,
                          const float* bc, int64_t ld_bc, int64_t b_off, int64_t c_off, const float* A, const float* D,
                          float* h, float* y);

// One batch row. xbc: [T, ld_xbc] holding x (H*P) at column 0, B (G*N) at b_off,
// C (G*N) at c_off; dt: [T, H] (after softplus and clamping); A: [H] (-exp(A_log));
// D: [H]; h: [H, P, N] carried; y: [T, H*P]. Head hd reads group hd / (H / G).
void mamba2_ssd_scan(int64_t T, int64_t H, int64_t P, int64_t N, int64_t G, const float* xbc, int64_t ld_xbc,
                     int64_t b_off, int64_t c_off, const float* dt, const float* A, const float* D, float* h, float* y);

// torch.nn.functional.softplus (beta 1, threshold 20).
float softplus(float x);

}  // namespace ia
