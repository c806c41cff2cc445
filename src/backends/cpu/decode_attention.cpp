#include "backends/cpu/decode_attention.h"

#include <string>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/isa_prelude.h"
#include "core/dtype.h"

namespace ia::cpu {

namespace {

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,fma,f16c")
namespace avx512 {
#include "backends/cpu/vec_avx512.inc"
#include "backends/cpu/decode_attention_body.inc"
}  // namespace avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace avx2 {
#include "backends/cpu/vec_avx2.inc"
#include "backends/cpu/decode_attention_body.inc"
}  // namespace avx2
#pragma GCC pop_options
#endif

struct Table {
  void (*scores)(const DecodeAttendArgs&, float*);
  void (*mix)(const DecodeAttendArgs&, const float*, float*);
};

Table pick() {
#if defined(__x86_64__)
  const std::string& isa = cpu_info().kernel_isa;
  if (isa == "avx512") return {avx512::decode_scores_body<avx512::S>, avx512::decode_mix_body<avx512::S>};
  if (isa == "avx2") return {avx2::decode_scores_body<avx2::S>, avx2::decode_mix_body<avx2::S>};
#endif
  return {decode_scores_scalar, decode_mix_scalar};
}

const Table& table() {
  static const Table t = pick();
  return t;
}

}  // namespace

void decode_scores_scalar(const DecodeAttendArgs& a, float* sc) {
  for (int64_t j = 0; j < a.Tk; ++j)
    for (int64_t i = 0; i < a.h1 - a.h0; ++i) {
      const float* kr = a.k + j * a.k_row + ((a.h0 + i) / a.group) * a.D;
      const float* qh = a.q + i * a.D;
      float s = 0.f;
      for (int64_t d = 0; d < a.D; ++d) s += qh[d] * kr[d];
      sc[i * a.Tk + j] = s;
    }
}

void decode_mix_scalar(const DecodeAttendArgs& a, const float* p, float* out) {
  const int64_t nh = a.h1 - a.h0;
  for (int64_t i = 0; i < nh * a.Dv; ++i) out[i] = 0.f;
  for (int64_t j = 0; j < a.Tk; ++j)
    for (int64_t i = 0; i < nh; ++i) {
      const float pj = p[i * a.Tk + j];
      if (pj == 0.f) continue;
      const float* vr = a.v + j * a.v_row + ((a.h0 + i) / a.group) * a.Dv;
      for (int64_t d = 0; d < a.Dv; ++d) out[i * a.Dv + d] += pj * vr[d];
    }
}

void decode_scores(const DecodeAttendArgs& a, float* scores) {
  if (a.h1 > a.h0 && a.Tk > 0) table().scores(a, scores);
}

void decode_mix(const DecodeAttendArgs& a, const float* probs, float* out) {
  if (a.h1 > a.h0) table().mix(a, probs, out);
}

}  // namespace ia::cpu
