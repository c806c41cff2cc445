#include "backends/cpu/kernels.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

namespace {
constexpr int64_t kGemvMaxRows = 4;  // up to this many activation rows stream the weights once (GEMV path)

void check_linear(int64_t K, const Tensor& W) {
  IA_CHECK(W.rank() == 2 && W.dim(1) == K, "linear: weight shape ", shape_str(W.shape()), " does not take inputs of size ", K);
  IA_CHECK(W.dtype() == DType::F32 || W.dtype() == DType::F16 || W.dtype() == DType::BF16,
           "linear: weight dtype ", dtype_name(W.dtype()), " not supported");
}
}  // namespace

void linear(const float* x, int64_t M, int64_t K, const Tensor& W, const float* bias, float* y) {
  check_linear(K, W);
  const int64_t N = W.dim(0);
  if (M <= kGemvMaxRows) {
    const Kernels& kt = simd_kernels();
    const auto* wb = static_cast<const unsigned char*>(W.raw());
    const size_t es = dtype_size(W.dtype());
    const DType dt = W.dtype();
    // Each thread streams a contiguous slab of weight rows once for all M activation rows.
#pragma omp parallel for schedule(static) if (N * K > 32768)
    for (int64_t n = 0; n < N; ++n) {
      const void* wr = wb + size_t(n) * size_t(K) * es;
      for (int64_t m = 0; m < M; ++m) {
        float acc = dt == DType::F32   ? kt.dot_f32(x + m * K, static_cast<const float*>(wr), K)
                    : dt == DType::BF16 ? kt.dot_bf16(x + m * K, static_cast<const uint16_t*>(wr), K)
                                        : kt.dot_f16(x + m * K, static_cast<const uint16_t*>(wr), K);
        y[m * N + n] = acc + (bias ? bias[n] : 0.f);
      }
    }
    return;
  }
  if (W.dtype() == DType::F32) {
    gemm_nt(M, N, K, x, K, W.f32(), K, y, N);
  } else {
    // Convert weight panels to F32 and multiply panel by panel.
    constexpr int64_t kPanel = 256;
    std::vector<float> panel(size_t(std::min(N, kPanel) * K));
    const auto* wb = static_cast<const unsigned char*>(W.raw());
    const size_t es = dtype_size(W.dtype());
    for (int64_t n0 = 0; n0 < N; n0 += kPanel) {
      int64_t nb = std::min(kPanel, N - n0);
      convert_to_f32(W.dtype(), wb + size_t(n0) * size_t(K) * es, panel.data(), size_t(nb * K));
      gemm_nt(M, nb, K, x, K, panel.data(), K, y + n0, N);
    }
  }
  if (bias) {
#pragma omp parallel for schedule(static) if (M * N > 65536)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) y[m * N + n] += bias[n];
  }
}

void linear_reference(const float* x, int64_t M, int64_t K, const Tensor& W, const float* bias, float* y) {
  check_linear(K, W);
  const int64_t N = W.dim(0);
  Tensor wf = W.to_f32();
  const float* w = wf.f32();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += double(x[m * K + k]) * double(w[n * K + k]);
      y[m * N + n] = float(acc) + (bias ? bias[n] : 0.f);
    }
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
  if (a == Act::Identity) return;
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
