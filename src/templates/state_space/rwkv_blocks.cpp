// RWKV-4 blocks over one piece of T tokens per row (transformers 4.44 RwkvBlock
// with its state list): token shift from the carried last input, time mixing
// with the wkv recurrence, channel mixing with squared ReLU.
#include <cmath>
#include <cstring>

#include "parts/rwkv_wkv.h"
#include "templates/state_space/ssm_layers.h"

namespace ia {

namespace {

// out[t] = cur[t] * mix + prev[t] * (1 - mix), prev[0] = shift (the carried last input), prev[t] = cur[t-1].
void token_shift_mix(const float* cur, const float* shift, int64_t T, int64_t n, const float* mix, float* out) {
  for (int64_t t = 0; t < T; ++t) {
    const float* c = cur + t * n;
    const float* p = t == 0 ? shift : cur + (t - 1) * n;
    float* o = out + t * n;
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] * mix[i] + p[i] * (1.f - mix[i]);
  }
}

inline float sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }

}  // namespace

void StateSpaceModel::rwkv_block(int64_t l, int64_t T) {
  const RwkvLayer& L = rwkv_[size_t(l)];
  const int64_t B = state_.batch(), M = B * T, H = p_.hidden, A = p_.attention_hidden, F = p_.rwkv_intermediate;
  float* x = x_.data();
  if (l == 0) L.pre_ln.forward(x, M, x);
  float* n = grow(n_, size_t(M * H));
  float* mixed = grow(proj_, size_t(M * H));
  float* k = grow(k_, size_t(M * std::max(A, F)));
  float* v = grow(v_, size_t(M * std::max(A, H)));
  float* r = grow(r_, size_t(M * std::max(A, H)));
  float* wkv = grow(y_, size_t(M * A));
  float* tmp = grow(tmp_, size_t(M * H));

  // --- time mixing
  L.ln1.forward(x, M, n);
  float* att_shift = state_.data(l, kRwkvAttShift);
  auto mix_all = [&](const float* mix, float* shift_state) {
    for (int64_t b = 0; b < B; ++b)
      token_shift_mix(n + b * T * H, shift_state + b * H, T, H, mix, mixed + b * T * H);
  };
  mix_all(L.att_mix_k.f32(), att_shift);
  L.att_key.forward(mixed, M, k);
  mix_all(L.att_mix_v.f32(), att_shift);
  L.att_value.forward(mixed, M, v);
  mix_all(L.att_mix_r.f32(), att_shift);
  L.att_receptance.forward(mixed, M, r);
  for (int64_t i = 0; i < M * A; ++i) r[i] = sigmoid(r[i]);
  for (int64_t b = 0; b < B; ++b) std::memcpy(att_shift + b * H, n + (b * T + T - 1) * H, size_t(H) * 4);
  for (int64_t b = 0; b < B; ++b)
    rwkv_wkv(T, A, L.decay.f32(), L.first.f32(), k + b * T * A, v + b * T * A, state_.data(l, kRwkvNum) + b * A,
             state_.data(l, kRwkvDen) + b * A, state_.data(l, kRwkvMax) + b * A, wkv + b * T * A);
  cpu::mul_inplace(wkv, r, M * A);
  L.att_output.forward(wkv, M, tmp);
  cpu::add_inplace(x, tmp, M * H);

  // --- channel mixing
  L.ln2.forward(x, M, n);
  float* ffn_shift = state_.data(l, kRwkvFfnShift);
  mix_all(L.ffn_mix_k.f32(), ffn_shift);
  L.ffn_key.forward(mixed, M, k);
  for (int64_t i = 0; i < M * F; ++i) {
    const float a = k[i] > 0.f ? k[i] : 0.f;
    k[i] = a * a;
  }
  L.ffn_value.forward(k, M, v);
  mix_all(L.ffn_mix_r.f32(), ffn_shift);
  L.ffn_receptance.forward(mixed, M, r);
  for (int64_t i = 0; i < M * H; ++i) r[i] = sigmoid(r[i]);
  for (int64_t b = 0; b < B; ++b) std::memcpy(ffn_shift + b * H, n + (b * T + T - 1) * H, size_t(H) * 4);
  cpu::mul_inplace(v, r, M * H);
  cpu::add_inplace(x, v, M * H);

  if (p_.rescale_every > 0 && (l + 1) % p_.rescale_every == 0) cpu::scale_inplace(x, 0.5f, M * H);
}

}  // namespace ia
