// CPU compute kernels: the hardware template's primitive operations.
// Simple reference versions sit beside SIMD versions picked at run time
// (see kernels_simd.cpp); tests check one against the other.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace ia::cpu {

// C[M,N] = alpha * A[M,K] . B[N,K]^T + beta * C   (row-major, leading dims given)
void gemm_nt(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
             int64_t ldc, float alpha = 1.f, float beta = 0.f);
// C[M,N] = alpha * A[M,K] . B[K,N] + beta * C
void gemm_nn(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
             int64_t ldc, float alpha = 1.f, float beta = 0.f);

// y[M,N] = x[M,K] . W[N,K]^T (+ bias[N]); W may be F32, F16 or BF16 (converted on the fly).
// Small M (decode) runs a weight-streaming GEMV; larger M a packed GEMM.
void linear(const float* x, int64_t M, int64_t K, const Tensor& W, const float* bias, float* y);
// Reference implementation of linear(), used by tests.
void linear_reference(const float* x, int64_t M, int64_t K, const Tensor& W, const float* bias, float* y);

// How a projection's weight is stored; both are read in place (no transposed copy).
enum class WeightLayout {
  OutIn,  // [out, in]: torch nn.Linear
  InOut,  // [in, out]: GPT-2 Conv1D
};
// One projection of a group that shares its input (q/k/v, gate/up).
struct LinearPart {
  const Tensor* weight = nullptr;  // F32, F16 or BF16
  const float* bias = nullptr;     // [out] or null
  WeightLayout layout = WeightLayout::OutIn;
};
int64_t part_out(const LinearPart& p);
// The parts' outputs side by side: y[M, ldy], part i fills the columns after parts 0..i-1.
// Decode sizes run every part in one parallel region with the columns split evenly
// across threads, so separate q/k/v (or gate/up) weights cost one pass like a fused one.
void linear_parts(const float* x, int64_t M, int64_t K, const LinearPart* parts, int n_parts, float* y, int64_t ldy);
// For callers that split a decode step across the threads of their own parallel region:
// output columns [g0, g1) of linear_parts() (M <= 4 rows, the GEMV kernels, any thread).
// No checks here (it runs inside parallel regions): the parts must be ones linear_parts()
// accepts for this K, e.g. checked once at load.
void linear_parts_cols(const float* x, int64_t M, int64_t K, const LinearPart* parts, int n_parts, float* y,
                       int64_t ldy, int64_t g0, int64_t g1);
// The other split, for [in, out] (InOut) parts: partial sums of input rows [k0, k1) for
// every output column, y[M, ldy] = x[:, k0:k1] . W[k0:k1, :] (+ bias when with_bias).
// Each thread then streams one contiguous block of every weight instead of a strided
// column slab of each row (measured on GPT-2's shapes: 1.15-1.5x the bandwidth); the
// caller adds the threads' partials. Same conditions as linear_parts_cols.
void linear_parts_krows(const float* x, int64_t M, int64_t K, const LinearPart* parts, int n_parts, float* y,
                        int64_t ldy, int64_t k0, int64_t k1, bool with_bias);
// Thread t of T takes output columns [*c0, *c1) of `total`: an even split whose inner
// boundaries are multiples of 16 columns (no shared cache lines between threads).
void split_cols(int64_t total, int t, int T, int64_t* c0, int64_t* c1);
void linear_parts_reference(const float* x, int64_t M, int64_t K, const LinearPart* parts, int n_parts, float* y,
                            int64_t ldy);

float dot(const float* a, const float* b, int64_t n);

// Row-wise normalisations over the last dimension n. `w`/`b` may be null.
void layer_norm(const float* x, int64_t rows, int64_t n, const float* w, const float* b, float eps, float* y);
// y = x / rms(x) * (w_offset + w)   (w_offset = 1 for Gemma's stored-as-delta weights)
void rms_norm(const float* x, int64_t rows, int64_t n, const float* w, float eps, float* y, float w_offset = 0.f);

void softmax_inplace(float* x, int64_t n);

enum class Act {
  Identity, GeluExact, GeluTanh, QuickGelu, Relu, Silu, Tanh, Sigmoid, GeluFast, Relu2, Mish,
  Relu6, LeakyRelu, GeluClip10, Laplace  // relu6, leaky_relu (slope 0.01), gelu_10, laplace (MEGA)
};
// Maps a transformers ACT2FN name ("gelu", "gelu_new", "silu", ...) to a kernel; fails with the name otherwise.
Act act_from_name(const std::string& name, const std::string& where);
const char* act_name(Act a);
void apply_act(Act a, float* x, int64_t n);
float act_scalar(Act a, float x);

void add_inplace(float* y, const float* x, int64_t n);
void scale_inplace(float* y, float s, int64_t n);
void mul_inplace(float* y, const float* x, int64_t n);

}  // namespace ia::cpu
