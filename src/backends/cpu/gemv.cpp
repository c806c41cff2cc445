// GEMV kernels (see gemv.h). One generic body per layout, instantiated for each
// ISA through a small vector-traits struct and for each weight dtype / row count.
//
// NK: four weight rows (eight with AVX-512 and one or two activation rows: measured
// 5-10% faster on GPT-2's LM head) are streamed side by side (several sequential
// streams keep more loads in flight than one) against the M <= 4 activation rows in L1.
// KN: the thread's column slab is processed eight weight rows (k) at a time; the
// running sums live in y itself (the slab is the thread's own, so no sharing),
// which keeps the weight reads long and contiguous.
#include "backends/cpu/gemv.h"

#include <algorithm>
#include <string>
#include <vector>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/isa_prelude.h"

namespace ia::cpu {

namespace {

template <DType DT>
inline float load1(const void* w, int64_t i) {
  if constexpr (DT == DType::F32) return static_cast<const float*>(w)[i];
  else if constexpr (DT == DType::BF16) return bf16_to_f32(static_cast<const uint16_t*>(w)[i]);
  else return f16_to_f32(static_cast<const uint16_t*>(w)[i]);
}

template <DType DT>
constexpr size_t esize() {
  return DT == DType::F32 ? 4 : 2;
}

// ---------------------------------------------------------------- portable
template <DType DT>
void nk_scalar(const GemvArgs& a, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; ++n) {
    const auto* row = static_cast<const unsigned char*>(a.w) + size_t(n) * size_t(a.K) * esize<DT>();
    for (int64_t m = 0; m < a.M; ++m) {
      const float* x = a.x + m * a.ldx;
      float s = 0.f;
      for (int64_t k = 0; k < a.K; ++k) s += x[k] * load1<DT>(row, k);
      a.y[m * a.ldy + n] = s + (a.bias ? a.bias[n] : 0.f);
    }
  }
}

template <DType DT>
void kn_scalar(const GemvArgs& a, int64_t c0, int64_t c1) {
  for (int64_t m = 0; m < a.M; ++m) {
    float* y = a.y + m * a.ldy;
    for (int64_t c = c0; c < c1; ++c) y[c] = a.bias ? a.bias[c] : 0.f;
    for (int64_t k = 0; k < a.K; ++k) {
      const float xv = a.x[m * a.ldx + k];
      const auto* row = static_cast<const unsigned char*>(a.w) + size_t(k) * size_t(a.N) * esize<DT>();
      for (int64_t c = c0; c < c1; ++c) y[c] += xv * load1<DT>(row, c);
    }
  }
}

#if defined(__x86_64__)
// Everything up to the matching pop_options is compiled for AVX-512 (templates
// instantiated here included); the AVX2 region below mirrors it.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,fma,f16c")
namespace avx512 {
#include "backends/cpu/vec_avx512.inc"
#include "backends/cpu/gemv_body.inc"
template <DType DT, int M>
void nk(const GemvArgs& a, int64_t n0, int64_t n1) {
  nk_rows<S, DT, M, M <= 2 ? 8 : 4>(a, n0, n1);
}
template <DType DT, int M>
void kn(const GemvArgs& a, int64_t c0, int64_t c1) {
  kn_body<S, DT, M>(a, c0, c1);
}
}  // namespace avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace avx2 {
#include "backends/cpu/vec_avx2.inc"
#include "backends/cpu/gemv_body.inc"
template <DType DT, int M>
void nk(const GemvArgs& a, int64_t n0, int64_t n1) {
  nk_rows<S, DT, M, 4>(a, n0, n1);
}
template <DType DT, int M>
void kn(const GemvArgs& a, int64_t c0, int64_t c1) {
  kn_body<S, DT, M>(a, c0, c1);
}
}  // namespace avx2
#pragma GCC pop_options
#endif

using Fn = void (*)(const GemvArgs&, int64_t, int64_t);

// Table [dtype][M - 1] for one kernel family.
#define IA_GEMV_TABLE(K)                                                       \
  Table {                                                                      \
    {                                                                          \
      {K<DType::F32, 1>, K<DType::F32, 2>, K<DType::F32, 3>, K<DType::F32, 4>},  \
      {K<DType::F16, 1>, K<DType::F16, 2>, K<DType::F16, 3>, K<DType::F16, 4>},  \
      {K<DType::BF16, 1>, K<DType::BF16, 2>, K<DType::BF16, 3>, K<DType::BF16, 4>} \
    }                                                                          \
  }

struct Table {
  Fn f[3][4];
};

int dtype_index(DType d) { return d == DType::F32 ? 0 : d == DType::F16 ? 1 : 2; }

struct Kernels2 {
  Table nk, kn;
};

const Kernels2* pick() {
#if defined(__x86_64__)
  static const Kernels2 k512{IA_GEMV_TABLE(avx512::nk), IA_GEMV_TABLE(avx512::kn)};
  static const Kernels2 k2{IA_GEMV_TABLE(avx2::nk), IA_GEMV_TABLE(avx2::kn)};
  const std::string& isa = cpu_info().kernel_isa;
  if (isa == "avx512") return &k512;
  if (isa == "avx2") return &k2;
#endif
  return nullptr;
}

const Kernels2* kernels() {
  static const Kernels2* k = pick();
  return k;
}

void dispatch_scalar(bool nk, const GemvArgs& a, int64_t from, int64_t to) {
  switch (a.dtype) {
    case DType::F32: return nk ? nk_scalar<DType::F32>(a, from, to) : kn_scalar<DType::F32>(a, from, to);
    case DType::F16: return nk ? nk_scalar<DType::F16>(a, from, to) : kn_scalar<DType::F16>(a, from, to);
    default: return nk ? nk_scalar<DType::BF16>(a, from, to) : kn_scalar<DType::BF16>(a, from, to);
  }
}

}  // namespace

void gemv_nk_scalar(const GemvArgs& a, int64_t n0, int64_t n1) { dispatch_scalar(true, a, n0, n1); }
void gemv_kn_scalar(const GemvArgs& a, int64_t c0, int64_t c1) { dispatch_scalar(false, a, c0, c1); }

void gemv_nk(const GemvArgs& a, int64_t n0, int64_t n1) {
  if (n1 <= n0 || a.M <= 0) return;
  if (const Kernels2* k = kernels(); k && a.M <= kGemvMaxRows)
    return k->nk.f[dtype_index(a.dtype)][a.M - 1](a, n0, n1);
  dispatch_scalar(true, a, n0, n1);
}

void gemv_kn(const GemvArgs& a, int64_t c0, int64_t c1) {
  if (c1 <= c0 || a.M <= 0) return;
  if (const Kernels2* k = kernels(); k && a.M <= kGemvMaxRows)
    return k->kn.f[dtype_index(a.dtype)][a.M - 1](a, c0, c1);
  dispatch_scalar(false, a, c0, c1);
}

}  // namespace ia::cpu
