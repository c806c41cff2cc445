#include "parts/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/decode_attention.h"
#include "backends/cpu/kernels.h"
#include "core/error.h"

namespace ia {

namespace {

void check_heads(const AttentionSpec& s) {
  IA_CHECK(s.n_heads > 0 && s.n_kv_heads > 0 && s.n_heads % s.n_kv_heads == 0, "attention: ", s.n_heads,
           " query heads cannot share ", s.n_kv_heads, " key/value heads");
}

bool decode_shape(const AttentionArgs& a) { return a.Tq == 1 && !a.bias; }

// The keys one query sees: it sits at key position qpos; keys from kend on are causally
// masked; km (0 = padding) and apos (ALiBi positions) may be null.
struct QueryKeys {
  int64_t Tk = 0, kend = 0, qpos = 0;
  const int64_t* km = nullptr;
  const float* apos = nullptr;
};

// row[j] = softmax over j of the score of key j: raw_dot(j) (q . k_j, asked only for
// unmasked keys) scaled, soft-capped, plus the additive bias and ALiBi; masked keys -inf.
template <class RawDot>
void score_row(const AttentionSpec& s, const QueryKeys& q, float slope, const float* bias, RawDot raw_dot, float* row) {
  for (int64_t j = 0; j < q.Tk; ++j) {
    if (j >= q.kend || (q.km && q.km[j] == 0) || (s.sliding_window > 0 && q.qpos - j >= s.sliding_window)) {
      row[j] = -INFINITY;
      continue;
    }
    float x = raw_dot(j) * s.scale;
    if (s.softcap > 0.f) x = s.softcap * std::tanh(x / s.softcap);
    if (bias) x += bias[j];
    if (s.alibi_slopes) x += slope * (q.apos ? q.apos[j] : float(j));
    row[j] = x;
  }
  if (s.masked_rows_uniform && std::all_of(row, row + q.Tk, [](float v) { return v == -INFINITY; }))
    std::fill(row, row + q.Tk, 0.f);
  cpu::softmax_inplace(row, q.Tk);
}

}  // namespace

void attention(const AttentionSpec& s, const AttentionArgs& a) {
  check_heads(s);
  if (!decode_shape(a)) return attention_generic(s, a);
  const int64_t work = a.B * s.n_heads * a.Tk * s.head_dim;
#pragma omp parallel if (!omp_in_parallel() && work > 32768)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    attention_decode_heads(s, a, s.n_heads * t / nt, s.n_heads * (t + 1) / nt);
  }
}

void attention_decode_heads(const AttentionSpec& s, const AttentionArgs& a, int64_t h0, int64_t h1) {
  if (h1 <= h0 || a.B <= 0) return;
  const int64_t D = s.head_dim, Dv = s.v_head_dim ? s.v_head_dim : s.head_dim;
  if (!decode_shape(a)) {
    for (int64_t h = h0; h < h1; ++h) {
      AttentionSpec one = s;
      one.n_heads = one.n_kv_heads = 1;
      one.alibi_slopes = s.alibi_slopes ? s.alibi_slopes + h : nullptr;
      AttentionArgs ah = a;
      const int64_t hk = h / (s.n_heads / s.n_kv_heads);
      ah.q = a.q + h * D;
      ah.k = a.k + hk * D;
      ah.v = a.v + hk * Dv;
      ah.out = a.out + h * Dv;
      if (a.bias) ah.bias = a.bias + h * a.Tq * a.Tk;  // [B?, n_heads, Tq, Tk]: this head's plane
      attention_generic(one, ah);
    }
    return;
  }
  const int64_t nh = h1 - h0, Tk = a.Tk;
  thread_local std::vector<float> scratch;  // grown once; decode steps do not touch the heap
  if (scratch.size() < size_t(nh * Tk)) scratch.resize(size_t(nh * Tk));
  float* sc = scratch.data();
  QueryKeys qk;
  qk.Tk = Tk;
  qk.qpos = a.q_pos0;
  qk.kend = s.causal ? std::min(Tk, qk.qpos + 1) : Tk;
  for (int64_t b = 0; b < a.B; ++b) {
    cpu::DecodeAttendArgs d;
    d.q = a.q + b * a.q_batch + h0 * D;
    d.h0 = h0;
    d.h1 = h1;
    d.group = s.n_heads / s.n_kv_heads;
    d.k = a.k + b * a.k_batch;
    d.k_row = a.k_row;
    d.v = a.v + b * a.v_batch;
    d.v_row = a.v_row;
    d.Tk = Tk;
    d.D = D;
    d.Dv = Dv;
    cpu::decode_scores(d, sc);
    qk.km = a.key_mask ? a.key_mask + b * a.key_mask_batch : nullptr;
    qk.apos = a.alibi_pos ? a.alibi_pos + b * a.alibi_pos_batch : nullptr;
    for (int64_t i = 0; i < nh; ++i) {
      float* row = sc + i * Tk;
      const float slope = s.alibi_slopes ? s.alibi_slopes[h0 + i] : 0.f;
      score_row(s, qk, slope, nullptr, [row](int64_t j) { return row[j]; }, row);
    }
    cpu::decode_mix(d, sc, a.out + b * a.out_batch + h0 * Dv);
  }
}

void attention_generic(const AttentionSpec& s, const AttentionArgs& a) {
  check_heads(s);
  const int64_t D = s.head_dim, Dv = s.v_head_dim ? s.v_head_dim : s.head_dim;
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t BH = a.B * s.n_heads;
  const int nt = omp_get_max_threads();
  // Per-thread score rows; kept between calls so decode steps do not touch the heap.
  thread_local std::vector<float> scratch;
  const size_t need = size_t(nt) * size_t(a.Tk + Dv);
  if (scratch.size() < need) scratch.resize(need);
  float* scratch_base = scratch.data();  // thread_local: take the caller's buffer before the parallel region
  // Inside a caller's parallel region (decode steps split heads across its threads) this
  // stays on the calling thread instead of opening a nested team of one.
#pragma omp parallel for schedule(dynamic) if (!omp_in_parallel() && BH * a.Tq * a.Tk * D > 32768)
  for (int64_t bh = 0; bh < BH; ++bh) {
    const int64_t b = bh / s.n_heads, h = bh % s.n_heads, hk = h / group;
    float* sc = scratch_base + size_t(omp_get_thread_num()) * size_t(a.Tk + Dv);
    float* acc = sc + a.Tk;
    const float* qb = a.q + b * a.q_batch + h * D;
    const float* kb = a.k + b * a.k_batch + hk * D;
    const float* vb = a.v + b * a.v_batch + hk * Dv;
    const float* bias = a.bias ? a.bias + b * a.bias_batch + h * a.Tq * a.Tk : nullptr;
    const float slope = s.alibi_slopes ? s.alibi_slopes[h] : 0.f;
    QueryKeys qk;
    qk.Tk = a.Tk;
    qk.km = a.key_mask ? a.key_mask + b * a.key_mask_batch : nullptr;
    qk.apos = a.alibi_pos ? a.alibi_pos + b * a.alibi_pos_batch : nullptr;
    for (int64_t i = 0; i < a.Tq; ++i) {
      const float* qi = qb + i * a.q_row;
      qk.qpos = a.q_pos0 + i;
      qk.kend = s.causal ? std::min(a.Tk, qk.qpos + 1) : a.Tk;
      score_row(s, qk, slope, bias ? bias + i * a.Tk : nullptr,
                [&](int64_t j) { return cpu::dot(qi, kb + j * a.k_row, D); }, sc);
      for (int64_t d = 0; d < Dv; ++d) acc[d] = 0.f;
      for (int64_t j = 0; j < a.Tk; ++j) {
        float p = sc[j];
        if (p == 0.f) continue;
        const float* vj = vb + j * a.v_row;
        for (int64_t d = 0; d < Dv; ++d) acc[d] += p * vj[d];
      }
      float* o = a.out + b * a.out_batch + i * a.out_row + h * Dv;
      for (int64_t d = 0; d < Dv; ++d) o[d] = acc[d];
    }
  }
}

}  // namespace ia
