// Dot-product kernels in several ISAs; the table is chosen once from cpu_info().
#pragma once
#include <cstdint>

namespace ia::cpu {

struct Kernels {
  const char* isa;
  float (*dot_f32)(const float* x, const float* w, int64_t n);
  float (*dot_bf16)(const float* x, const uint16_t* w, int64_t n);
  float (*dot_f16)(const float* x, const uint16_t* w, int64_t n);
};

const Kernels& simd_kernels();
const Kernels& scalar_kernels();  // portable reference, used by tests

}  // namespace ia::cpu
