#include "templates/encoder_only/deberta_attention.h"

#include <algorithm>
#include <cmath>

#include "backends/cpu/kernels.h"
#include "core/error.h"
#include "templates/encoder_only/legacy_norm_names.h"
#include "parts/relative_position.h"

namespace ia {

Tensor deberta_rel_embeddings(const Weights& encoder, const EncoderParams& p) {
  const DebertaOptions& d = p.deberta;
  if (!d.relative_attention) return Tensor();
  Tensor rel = encoder.pp("rel_embeddings").get("weight", {2 * d.att_span, p.hidden_size});
  if (d.norm_rel_ebd) rel = load_encoder_layer_norm(encoder.pp("LayerNorm"), p.hidden_size, p.layer_norm_eps).forward(rel);
  return rel;
}

void deberta_prepare_batch(const EncoderParams& p, EncoderBatch& b) {
  if (!p.deberta.relative_attention) return;
  b.rel_pos = deberta_relative_positions(b.T, b.T, p.deberta.position_buckets, p.deberta.max_relative_positions);
}

void deberta_disentangled_bias(const EncoderLayer& L, const EncoderParams& p, const EncoderBatch& b, const float* q,
                               const float* k, float* bias) {
  const DebertaOptions& d = p.deberta;
  const int64_t T = b.T, nh = p.num_heads, D = p.head_dim, A = nh * D, span = d.att_span;
  const int sf = 1 + (d.c2p ? 1 : 0) + (d.p2c ? 1 : 0);
  const float inv = 1.f / std::sqrt(float(D) * float(sf));
  const int64_t* rel = b.rel_pos.data();
  auto clamp_idx = [&](int64_t x) { return std::clamp<int64_t>(x, 0, 2 * span - 1); };
  const float* pk = d.c2p ? L.pos_key.f32() : nullptr;
  const float* pq = d.p2c ? L.pos_query.f32() : nullptr;
#pragma omp parallel for collapse(2) schedule(static) if (b.B * nh * T * T * D > 32768)
  for (int64_t bb = 0; bb < b.B; ++bb)
    for (int64_t h = 0; h < nh; ++h) {
      float* out = bias + (bb * nh + h) * T * T;
      for (int64_t i = 0; i < T; ++i) {
        const float* qi = q + (bb * T + i) * A + h * D;
        for (int64_t j = 0; j < T; ++j) {
          float s = 0.f;
          if (pk) s += cpu::dot(qi, pk + clamp_idx(rel[i * T + j] + span) * A + h * D, D) * inv;
          // p2c is gathered along the key's row with -rel(j, i), then transposed.
          if (pq) s += cpu::dot(k + (bb * T + j) * A + h * D, pq + clamp_idx(-rel[j * T + i] + span) * A + h * D, D) * inv;
          out[i * T + j] = s;
        }
      }
    }
}

DebertaConv DebertaConv::load(const Weights& encoder, const EncoderParams& p) {
  DebertaConv c;
  const DebertaOptions& d = p.deberta;
  if (d.conv_kernel_size <= 0) return c;
  c.kernel = d.conv_kernel_size;
  c.groups = d.conv_groups;
  c.hidden = p.hidden_size;
  const Weights w = encoder.pp("conv");
  c.weight = w.pp("conv").get("weight", {p.hidden_size, p.hidden_size / c.groups, c.kernel});
  c.bias = w.pp("conv").get("bias", {p.hidden_size});
  c.norm = load_encoder_layer_norm(w.pp("LayerNorm"), p.hidden_size, p.layer_norm_eps);
  c.act = cpu::act_from_name(d.conv_act, p.config_label + " field 'conv_act'");
  return c;
}

void DebertaConv::forward(const Tensor& embeddings, const EncoderBatch& b, Tensor& x) const {
  const int64_t T = b.T, H = hidden, pad = (kernel - 1) / 2, cin = H / groups;
  IA_CHECK(T + 2 * pad - kernel + 1 == T, "deberta-v2 ConvLayer: conv_kernel_size ", kernel,
           " does not preserve the sequence length (transformers needs an odd kernel)");
  Tensor out = Tensor::f32({b.B * T, H});
  const float* e = embeddings.f32();
  const float* w = weight.f32();
  float* o = out.f32();
#pragma omp parallel for collapse(2) schedule(static) if (b.B * T * H * cin * kernel > 65536)
  for (int64_t bb = 0; bb < b.B; ++bb)
    for (int64_t t = 0; t < T; ++t) {
      float* orow = o + (bb * T + t) * H;
      if (b.mask[size_t(bb * T + t)] == 0) {  // masked_fill before the activation
        for (int64_t c = 0; c < H; ++c) orow[c] = 0.f;
        continue;
      }
      for (int64_t c = 0; c < H; ++c) {
        const int64_t g = c / (H / groups);
        float acc = bias.f32()[c];
        for (int64_t kk = 0; kk < kernel; ++kk) {
          const int64_t src = t + kk - pad;
          if (src < 0 || src >= T) continue;
          const float* erow = e + (bb * T + src) * H + g * cin;
          const float* wk = w + c * cin * kernel + kk;
          for (int64_t ic = 0; ic < cin; ++ic) acc += wk[ic * kernel] * erow[ic];
        }
        orow[c] = acc;
      }
    }
  cpu::apply_act(act, o, b.B * T * H);
  cpu::add_inplace(o, x.f32(), b.B * T * H);
  norm.forward(o, b.B * T, x.f32());
  for (int64_t r = 0; r < b.B * T; ++r)
    if (b.mask[size_t(r)] == 0)
      for (int64_t c = 0; c < H; ++c) x.f32()[r * H + c] = 0.f;
}

}  // namespace ia
