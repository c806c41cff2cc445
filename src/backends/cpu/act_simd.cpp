// Vectorised activations (see act_simd.h). The scalar forms call libm's tanhf /
// expf once per element, which made GELU the largest serial cost of a decode step
// (profiled: ~6% of single-thread GPT-2 decode, a third of the GEMV time at two
// threads). Here exp is a Cephes-style polynomial with the power of two applied by
// vscalefps (overflow -> inf, underflow -> 0 without range fix-ups) and tanh uses
// its odd polynomial near 0 and 1 - 2 / (e^{2|x|} + 1) elsewhere: both within
// ~2 ulp of libm, far inside the fixtures' tolerances (tested against the double
// formulas in kernels_norm_act_test).
#include "backends/cpu/act_simd.h"

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/isa_prelude.h"

namespace ia::cpu {

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,fma")
namespace {

inline __m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.f)), _mm512_set1_ps(89.f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  return _mm512_scalef_ps(p, n);
}

inline __m512 tanh512(__m512 x) {
  const __m512 a = _mm512_abs_ps(x);
  // |x| < 0.625: x + x^3 * P(x^2)
  const __m512 z = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
  const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
  // otherwise: sign(x) * (1 - 2 / (e^{2|x|} + 1))
  const __m512 e = exp512(_mm512_add_ps(a, a));
  __m512 big = _mm512_sub_ps(_mm512_set1_ps(1.f), _mm512_div_ps(_mm512_set1_ps(2.f), _mm512_add_ps(e, _mm512_set1_ps(1.f))));
  big = _mm512_or_ps(big, _mm512_and_ps(x, _mm512_set1_ps(-0.f)));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(0.625f), _CMP_LT_OQ), big, small);
}

template <Act A>
inline __m512 act512(__m512 x) {
  if constexpr (A == Act::GeluTanh) {  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
    const __m512 inner = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.f), tanh512(inner)));
  } else if constexpr (A == Act::GeluFast) {  // 0.5 x (1 + tanh(x * 0.7978845608 (1 + 0.044715 x^2)))
    const __m512 t = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), x), x, _mm512_set1_ps(1.f));
    const __m512 inner = _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.7978845608f)), t);
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.f), tanh512(inner)));
  } else if constexpr (A == Act::Silu) {  // x / (1 + e^-x)
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.f), exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
  } else if constexpr (A == Act::QuickGelu) {  // x / (1 + e^{-1.702 x})
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.f), exp512(_mm512_mul_ps(_mm512_set1_ps(-1.702f), x))));
  } else if constexpr (A == Act::Sigmoid) {
    return _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_add_ps(_mm512_set1_ps(1.f), exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
  } else {
    static_assert(A == Act::Tanh);
    return tanh512(x);
  }
}

template <Act A>
void run512(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, act512<A>(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(x + i, m, act512<A>(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

// x[i] = exp(x[i] - shift), returning the sum in double (as the scalar softmax does).
double exp_shift_sum512(float* x, int64_t n, float shift) {
  const __m512 sh = _mm512_set1_ps(shift);
  __m512d s0 = _mm512_setzero_pd(), s1 = s0;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), sh));
    _mm512_mask_storeu_ps(x + i, m, e);
    const __m512 z = _mm512_maskz_mov_ps(m, e);
    s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(z)));
    s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm512_extractf32x8_ps(z, 1)));
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
}

}  // namespace
#pragma GCC pop_options

namespace {
bool avx512_kernels() {
  static const bool on = cpu_info().kernel_isa == "avx512";
  return on;
}
}  // namespace
#endif

bool exp_shift_sum_vector(float* x, int64_t n, float shift, double* sum) {
#if defined(__x86_64__)
  if (!avx512_kernels()) return false;
  *sum = exp_shift_sum512(x, n, shift);
  return true;
#else
  (void)x, (void)n, (void)shift, (void)sum;
  return false;
#endif
}

bool act_vector(Act a, float* x, int64_t n) {
#if defined(__x86_64__)
  if (!avx512_kernels()) return false;
  switch (a) {
    case Act::GeluTanh: run512<Act::GeluTanh>(x, n); return true;
    case Act::GeluFast: run512<Act::GeluFast>(x, n); return true;
    case Act::Silu: run512<Act::Silu>(x, n); return true;
    case Act::QuickGelu: run512<Act::QuickGelu>(x, n); return true;
    case Act::Sigmoid: run512<Act::Sigmoid>(x, n); return true;
    case Act::Tanh: run512<Act::Tanh>(x, n); return true;
    default: return false;
  }
#else
  (void)a, (void)x, (void)n;
  return false;
#endif
}

}  // namespace ia::cpu
