// Weight-streaming matrix-vector kernels for decode (a few activation rows, the
// whole weight read once). Two stored layouts, both used in place:
//   NK: W[N, K] row-major (torch nn.Linear [out, in])  -> rows n0..n1 of the output
//   KN: W[K, N] row-major (GPT-2 Conv1D [in, out])     -> columns c0..c1 of the output
// Each call computes only its slice of output columns, so callers split N across
// threads inside one parallel region. Activations are F32, weights F32/F16/BF16.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace ia::cpu {

constexpr int64_t kGemvMaxRows = 4;  // up to this many activation rows take the GEMV path

struct GemvArgs {
  const float* x = nullptr;  // [M, ldx] activations
  int64_t M = 1, ldx = 0, K = 0;
  const void* w = nullptr;  // weight base (the whole matrix)
  DType dtype = DType::F32;
  int64_t N = 0;            // total output columns of this weight (= row length for KN)
  const float* bias = nullptr;  // [N] or null
  float* y = nullptr;       // [M, ldy]; column n of this weight goes to y[m * ldy + n]
  int64_t ldy = 0;
};

// y[:, n0:n1] = x . W^T (+ bias) for W[N, K];   M <= kGemvMaxRows.
void gemv_nk(const GemvArgs& a, int64_t n0, int64_t n1);
// y[:, c0:c1] = x . W (+ bias) for W[K, N];     M <= kGemvMaxRows.
void gemv_kn(const GemvArgs& a, int64_t c0, int64_t c1);
// Portable versions of both (tests compare the SIMD ones against these).
void gemv_nk_scalar(const GemvArgs& a, int64_t n0, int64_t n1);
void gemv_kn_scalar(const GemvArgs& a, int64_t c0, int64_t c1);

}  // namespace ia::cpu
