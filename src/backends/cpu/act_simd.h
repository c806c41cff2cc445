// SIMD forms of the transcendental activations (tanh/exp based: the GELU tanh
// variants, SiLU, quick-GELU, sigmoid, tanh). apply_act() uses them when the CPU
// has AVX-512; results agree with act_scalar() to a few ulp, not bit for bit.
#pragma once
#include <cstdint>

#include "backends/cpu/kernels.h"

namespace ia::cpu {

// Applies `a` to x[0..n) in place and returns true when a SIMD form exists for this
// activation on this CPU; returns false (x untouched) otherwise.
bool act_vector(Act a, float* x, int64_t n);

}  // namespace ia::cpu
