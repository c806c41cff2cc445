// SIMD forms of the transcendental activations (tanh/exp based: the GELU tanh
// variants, SiLU, quick-GELU, sigmoid, tanh) and of softmax's exponentials.
// apply_act() and softmax_inplace() use them when the CPU has AVX-512; results agree
// with the scalar forms to a few ulp, not bit for bit.
#pragma once
#include <cstdint>

#include "backends/cpu/kernels.h"

namespace ia::cpu {

// Applies `a` to x[0..n) in place and returns true when a SIMD form exists for this
// activation on this CPU; returns false (x untouched) otherwise.
bool act_vector(Act a, float* x, int64_t n);

// Softmax's inner loop: x[i] = exp(x[i] - shift) for i < n, *sum = their sum (in
// double). Returns false (x untouched) when the CPU has no SIMD form. exp(-inf) is
// exactly 0, so masked scores stay 0 (decode attention skips those positions).
bool exp_shift_sum_vector(float* x, int64_t n, float shift, double* sum);

}  // namespace ia::cpu
