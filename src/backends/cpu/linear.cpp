// cpu::linear / linear_parts: GEMV (decode) and GEMM (prefill) over weights
// stored as [out, in] or [in, out], F32 or half precision, read in place.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "backends/cpu/gemv.h"
#include "backends/cpu/kernels.h"
#include "core/error.h"

namespace ia::cpu {

namespace {

void check_part(int64_t K, const LinearPart& p, int i) {
  IA_CHECK(p.weight && p.weight->defined(), "linear: part ", i, " has no weight");
  const Tensor& W = *p.weight;
  const bool in_out = p.layout == WeightLayout::InOut;
  IA_CHECK(W.rank() == 2 && W.dim(in_out ? 0 : 1) == K, "linear: weight shape ", shape_str(W.shape()),
           in_out ? " ([in, out])" : "", " does not take inputs of size ", K);
  IA_CHECK(W.dtype() == DType::F32 || W.dtype() == DType::F16 || W.dtype() == DType::BF16, "linear: weight dtype ",
           dtype_name(W.dtype()), " not supported");
}

// Work below this many multiply-adds stays on the calling thread.
constexpr int64_t kParallelMin = 32768;

void gemv_parts(const float* x, int64_t M, int64_t K, const LinearPart* parts, int n_parts, float* y, int64_t ldy,
                int64_t total) {
  if (total * K < kParallelMin || omp_get_max_threads() == 1 || omp_in_parallel()) {
    linear_parts_cols(x, M, K, parts, n_parts, y, ldy, 0, total);
    return;
  }
  // Chunks of ~256 KiB of weights handed out as threads free up: on a shared machine the
  // threads' share of the bandwidth drifts by 10-20%, and with an even split the faster
  // thread would idle at the end (measured on GPT-2's LM head). Every output column is
  // still computed whole by one thread, so results do not depend on who took which chunk.
  const size_t col_bytes = size_t(K) * dtype_size(parts[0].weight->dtype());
  const int64_t chunk = std::max<int64_t>(16, int64_t((size_t(256) << 10) / std::max<size_t>(col_bytes, 1)) & ~int64_t(15));
  const int64_t n_chunks = (total + chunk - 1) / chunk;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < n_chunks; ++i)
    linear_parts_cols(x, M, K, parts, n_parts, y, ldy, i * chunk, std::min(total, (i + 1) * chunk));
}

constexpr int64_t kPanelValues = int64_t(1) << 22;

// Converts n values to F32, in parallel for large blocks (prefill panels).
void convert_parallel(DType dt, const unsigned char* src, float* dst, int64_t n) {
  constexpr int64_t kStep = 1 << 16;
  const size_t es = dtype_size(dt);
#pragma omp parallel for schedule(static) if (n > kStep)
  for (int64_t i = 0; i < n; i += kStep)
    convert_to_f32(dt, src + size_t(i) * es, dst + i, size_t(std::min(kStep, n - i)));
}

void gemm_part(const float* x, int64_t M, int64_t K, const LinearPart& p, float* y, int64_t ldy) {
  const Tensor& W = *p.weight;
  const int64_t n = part_out(p);
  const bool in_out = p.layout == WeightLayout::InOut;
  if (W.dtype() == DType::F32) {
    if (in_out) gemm_nn(M, n, K, x, K, W.f32(), n, y, ldy);
    else gemm_nt(M, n, K, x, K, W.f32(), K, y, ldy);
  } else {
    // Half-precision weights: convert a panel at a time and multiply it. Panels of
    // ~4 M values (16 MiB of F32) keep the GEMM calls large while bounding the buffer.
    const auto* wb = static_cast<const unsigned char*>(W.raw());
    const size_t es = dtype_size(W.dtype());
    thread_local std::vector<float> panel;
    if (!in_out) {
      const int64_t rows = std::min<int64_t>(n, std::max<int64_t>(16, kPanelValues / K));
      panel.resize(size_t(rows * K));
      for (int64_t n0 = 0; n0 < n; n0 += rows) {
        const int64_t nb = std::min(rows, n - n0);
        convert_parallel(W.dtype(), wb + size_t(n0) * size_t(K) * es, panel.data(), nb * K);
        gemm_nt(M, nb, K, x, K, panel.data(), K, y + n0, ldy);
      }
    } else {
      const int64_t kb = std::max<int64_t>(1, std::min<int64_t>(K, kPanelValues / std::max<int64_t>(n, 1)));
      panel.resize(size_t(kb * n));
      for (int64_t k0 = 0; k0 < K; k0 += kb) {
        const int64_t kk = std::min(kb, K - k0);
        convert_parallel(W.dtype(), wb + size_t(k0) * size_t(n) * es, panel.data(), kk * n);
        gemm_nn(M, n, kk, x + k0, K, panel.data(), n, y, ldy, 1.f, k0 == 0 ? 0.f : 1.f);
      }
    }
  }
  if (p.bias) {
#pragma omp parallel for schedule(static) if (M * n > 65536)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t j = 0; j < n; ++j) y[m * ldy + j] += p.bias[j];
  }
}

}  // namespace

void split_cols(int64_t total, int t, int T, int64_t* c0, int64_t* c1) {
  // Even split; inner boundaries on 16-column (64-byte) steps so neighbouring threads
  // never write the same cache line.
  *c0 = t == 0 ? 0 : (total * t / T) & ~int64_t(15);
  *c1 = t == T - 1 ? total : (total * (t + 1) / T) & ~int64_t(15);
  *c0 = std::min(*c0, total);
  *c1 = std::max(*c0, std::min(*c1, total));
}

void linear_parts_cols(const float* x, int64_t M, int64_t K, const LinearPart* parts, int n_parts, float* y,
                       int64_t ldy, int64_t g0, int64_t g1) {
  int64_t off = 0;
  for (int i = 0; i < n_parts; ++i) {
    const LinearPart& p = parts[i];
    const int64_t n = part_out(p);
    const int64_t lo = std::max(g0, off), hi = std::min(g1, off + n);
    if (lo < hi) {
      GemvArgs a;
      a.x = x;
      a.M = M;
      a.ldx = K;
      a.K = K;
      a.w = p.weight->raw();
      a.dtype = p.weight->dtype();
      a.N = n;
      a.bias = p.bias;
      a.y = y + off;
      a.ldy = ldy;
      if (p.layout == WeightLayout::InOut) gemv_kn(a, lo - off, hi - off);
      else gemv_nk(a, lo - off, hi - off);
    }
    off += n;
  }
}

void linear_parts_krows(const float* x, int64_t M, int64_t K, const LinearPart* parts, int n_parts, float* y,
                        int64_t ldy, int64_t k0, int64_t k1, bool with_bias) {
  int64_t off = 0;
  for (int i = 0; i < n_parts; ++i) {
    const LinearPart& p = parts[i];
    const int64_t n = part_out(p);
    GemvArgs a;
    a.x = x + k0;
    a.M = M;
    a.ldx = K;
    a.K = std::max<int64_t>(k1 - k0, 0);
    a.w = static_cast<const unsigned char*>(p.weight->raw()) + size_t(k0) * size_t(n) * dtype_size(p.weight->dtype());
    a.dtype = p.weight->dtype();
    a.N = n;
    a.bias = with_bias ? p.bias : nullptr;
    a.y = y + off;
    a.ldy = ldy;
    gemv_kn(a, 0, n);
    off += n;
  }
}

int64_t part_out(const LinearPart& p) { return p.weight->dim(p.layout == WeightLayout::InOut ? 1 : 0); }

void linear_parts(const float* x, int64_t M, int64_t K, const LinearPart* parts, int n_parts, float* y, int64_t ldy) {
  int64_t total = 0;
  for (int i = 0; i < n_parts; ++i) {
    check_part(K, parts[i], i);
    total += part_out(parts[i]);
  }
  IA_CHECK(ldy >= total, "linear: output row of ", ldy, " values cannot hold ", total, " outputs");
  if (M <= 0 || total == 0) return;
  if (M <= kGemvMaxRows) return gemv_parts(x, M, K, parts, n_parts, y, ldy, total);
  int64_t off = 0;
  for (int i = 0; i < n_parts; ++i) {
    gemm_part(x, M, K, parts[i], y + off, ldy);
    off += part_out(parts[i]);
  }
}

void linear(const float* x, int64_t M, int64_t K, const Tensor& W, const float* bias, float* y) {
  LinearPart p{&W, bias, WeightLayout::OutIn};
  check_part(K, p, 0);
  linear_parts(x, M, K, &p, 1, y, W.dim(0));
}

void linear_parts_reference(const float* x, int64_t M, int64_t K, const LinearPart* parts, int n_parts, float* y,
                            int64_t ldy) {
  int64_t off = 0;
  for (int i = 0; i < n_parts; ++i) {
    const LinearPart& p = parts[i];
    check_part(K, p, i);
    const int64_t n = part_out(p);
    Tensor wf = p.weight->to_f32();
    const float* w = wf.f32();
    const bool in_out = p.layout == WeightLayout::InOut;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += double(x[m * K + k]) * double(in_out ? w[k * n + j] : w[j * K + k]);
        y[m * ldy + off + j] = float(acc) + (p.bias ? p.bias[j] : 0.f);
      }
    off += n;
  }
}

void linear_reference(const float* x, int64_t M, int64_t K, const Tensor& W, const float* bias, float* y) {
  LinearPart p{&W, bias, WeightLayout::OutIn};
  linear_parts_reference(x, M, K, &p, 1, y, W.dim(0));
}

}  // namespace ia::cpu
