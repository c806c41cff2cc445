#include "backends/cpu/kernels.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/act_simd.h"
#include "backends/cpu/cpu_info.h"
#include "backends/cpu/simd.h"
#include "core/error.h"

namespace ia::cpu {

void gemm_nt(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
             int64_t ldc, float alpha, float beta) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = beta == 0.f ? 0.f : beta * C[m * ldc + n];
    return;
  }
  auto st = dnnl_sgemm('N', 'T', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  IA_CHECK(st == dnnl_success, "dnnl_sgemm failed (status ", int(st), ")");
}

void gemm_nn(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
             int64_t ldc, float alpha, float beta) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = beta == 0.f ? 0.f : beta * C[m * ldc + n];
    return;
  }
  auto st = dnnl_sgemm('N', 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  IA_CHECK(st == dnnl_success, "dnnl_sgemm failed (status ", int(st), ")");
}

float dot(const float* a, const float* b, int64_t n) { return simd_kernels().dot_f32(a, b, n); }

void layer_norm(const float* x, int64_t rows, int64_t n, const float* w, const float* b, float eps, float* y) {
#pragma omp parallel for schedule(static) if (rows * n > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) mean += xr[i];
    mean /= double(n);
    double var = 0;
    for (int64_t i = 0; i < n; ++i) {
      double d = xr[i] - mean;
      var += d * d;
    }
    var /= double(n);
    float inv = float(1.0 / std::sqrt(var + double(eps)));
    float mf = float(mean);
    for (int64_t i = 0; i < n; ++i) {
      float v = (xr[i] - mf) * inv;
      if (w) v *= w[i];
      if (b) v += b[i];
      yr[i] = v;
    }
  }
}

void rms_norm(const float* x, int64_t rows, int64_t n, const float* w, float eps, float* y, float w_offset) {
#pragma omp parallel for schedule(static) if (rows * n > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += double(xr[i]) * xr[i];
    float inv = float(1.0 / std::sqrt(ss / double(n) + double(eps)));
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * inv * (w ? (w_offset + w[i]) : 1.f);
  }
}

void softmax_inplace(float* x, int64_t n) {
  if (n <= 0) return;
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  if (mx == -INFINITY) {  // every entry masked: define the result as all zeros
    std::fill(x, x + n, 0.f);
    return;
  }
  double sum = 0;
  if (!exp_shift_sum_vector(x, n, mx, &sum))
    for (int64_t i = 0; i < n; ++i) {
      x[i] = std::exp(x[i] - mx);
      sum += x[i];
    }
  float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

Act act_from_name(const std::string& name, const std::string& where) {
  static const struct { const char* n; Act a; } table[] = {
      {"gelu", Act::GeluExact},       {"gelu_python", Act::GeluExact}, {"gelu_new", Act::GeluTanh},
      {"gelu_pytorch_tanh", Act::GeluTanh}, {"gelu_fast", Act::GeluFast}, {"quick_gelu", Act::QuickGelu},
      {"relu", Act::Relu},            {"silu", Act::Silu},             {"swish", Act::Silu},
      {"tanh", Act::Tanh},            {"sigmoid", Act::Sigmoid},       {"linear", Act::Identity},
      {"relu2", Act::Relu2},          {"mish", Act::Mish},             {"gelu_accurate", Act::GeluTanh},
      {"relu6", Act::Relu6},          {"leaky_relu", Act::LeakyRelu},  {"gelu_10", Act::GeluClip10},
      {"laplace", Act::Laplace}};
  for (const auto& e : table)
    if (name == e.n) return e.a;
  fail(where, ": unsupported activation '", name, "'");
}

const char* act_name(Act a) {
  switch (a) {
    case Act::Identity: return "identity";
    case Act::GeluExact: return "gelu";
    case Act::GeluTanh: return "gelu_tanh";
    case Act::GeluFast: return "gelu_fast";
    case Act::QuickGelu: return "quick_gelu";
    case Act::Relu: return "relu";
    case Act::Silu: return "silu";
    case Act::Tanh: return "tanh";
    case Act::Sigmoid: return "sigmoid";
    case Act::Relu2: return "relu2";
    case Act::Mish: return "mish";
    case Act::Relu6: return "relu6";
    case Act::LeakyRelu: return "leaky_relu";
    case Act::GeluClip10: return "gelu_10";
    case Act::Laplace: return "laplace";
  }
  return "?";
}

float act_scalar(Act a, float x) {
  switch (a) {
    case Act::Identity: return x;
    case Act::GeluExact: return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f));
    case Act::GeluTanh:
      return 0.5f * x * (1.f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case Act::GeluFast: return 0.5f * x * (1.f + std::tanh(x * 0.7978845608f * (1.f + 0.044715f * x * x)));
    case Act::QuickGelu: return x / (1.f + std::exp(-1.702f * x));
    case Act::Relu: return x > 0.f ? x : 0.f;
    case Act::Silu: return x / (1.f + std::exp(-x));
    case Act::Tanh: return std::tanh(x);
    case Act::Sigmoid: return 1.f / (1.f + std::exp(-x));
    case Act::Relu2: return x > 0.f ? x * x : 0.f;
    case Act::Mish: return x * std::tanh(std::log1p(std::exp(x)));
    case Act::Relu6: return std::min(std::max(x, 0.f), 6.f);
    case Act::LeakyRelu: return x >= 0.f ? x : 0.01f * x;  // nn.LeakyReLU default negative_slope
    case Act::GeluClip10:
      return std::min(std::max(0.5f * x * (1.f + std::erf(x * 0.70710678118654752f)), -10.f), 10.f);
    case Act::Laplace:  // 0.5 * (1 + erf((x - mu) / (sigma * sqrt(2)))), mu = 0.707107, sigma = 0.282095
      return 0.5f * (1.f + std::erf((x - 0.707107f) / float(0.282095 * 1.4142135623730951)));
  }
  return x;
}

void apply_act(Act a, float* x, int64_t n) {
  if (a == Act::Identity || n <= 0) return;
  constexpr int64_t kBlock = 4096;  // SIMD forms run per block so large arrays still split across threads
  if (act_vector(a, x, 0)) {
#pragma omp parallel for schedule(static) if (n > 65536 && !omp_in_parallel())
    for (int64_t i = 0; i < n; i += kBlock) act_vector(a, x + i, std::min(kBlock, n - i));
    return;
  }
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) x[i] = act_scalar(a, x[i]);
}

void add_inplace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}
void scale_inplace(float* y, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= s;
}
void mul_inplace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= x[i];
}

}  // namespace ia::cpu
