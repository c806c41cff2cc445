#include "templates/encoder_only/encoder_layer.h"

#include <cmath>
#include <cstring>

#include "backends/cpu/kernels.h"
#include "core/error.h"
#include "templates/encoder_only/legacy_norm_names.h"
#include "parts/attention.h"
#include "templates/encoder_only/deberta_attention.h"

namespace ia {

namespace {

Tensor project_table(const Tensor& table, const Linear& proj) { return proj.forward(table); }

}  // namespace

EncoderLayer EncoderLayer::load(const Weights& w, const EncoderParams& p, const Tensor* rel_embeddings) {
  EncoderLayer L;
  const int64_t H = p.hidden_size, A = p.num_heads * p.head_dim, I = p.intermediate_size;
  Weights att_self, att_out_dense, att_norm, ffn_in, ffn_out, ffn_norm;
  const char *qn = "query", *kn = "key", *vn = "value";
  switch (p.naming) {
    case EncoderNaming::Bert:
    case EncoderNaming::DebertaV2:
      att_self = w.pp("attention").pp("self");
      att_out_dense = w.pp("attention").pp("output").pp("dense");
      att_norm = w.pp("attention").pp("output").pp("LayerNorm");
      ffn_in = w.pp("intermediate").pp("dense");
      ffn_out = w.pp("output").pp("dense");
      ffn_norm = w.pp("output").pp("LayerNorm");
      if (p.naming == EncoderNaming::DebertaV2) qn = "query_proj", kn = "key_proj", vn = "value_proj";
      break;
    case EncoderNaming::Albert:
      att_self = w.pp("attention");
      att_out_dense = w.pp("attention").pp("dense");
      att_norm = w.pp("attention").pp("LayerNorm");
      ffn_in = w.pp("ffn");
      ffn_out = w.pp("ffn_output");
      ffn_norm = w.pp("full_layer_layer_norm");
      break;
    case EncoderNaming::DistilBert:
      att_self = w.pp("attention");
      att_out_dense = w.pp("attention").pp("out_lin");
      att_norm = w.pp("sa_layer_norm");
      ffn_in = w.pp("ffn").pp("lin1");
      ffn_out = w.pp("ffn").pp("lin2");
      ffn_norm = w.pp("output_layer_norm");
      qn = "q_lin", kn = "k_lin", vn = "v_lin";
      break;
  }
  L.q = Linear::load(att_self.pp(qn), H, A, true);
  L.k = Linear::load(att_self.pp(kn), H, A, true);
  L.v = Linear::load(att_self.pp(vn), H, A, true);
  L.o = Linear::load(att_out_dense, A, H, true);
  L.attn_norm = load_encoder_layer_norm(att_norm, H, p.layer_norm_eps);
  L.ffn_in = Linear::load(ffn_in, H, I, true);
  L.ffn_out = Linear::load(ffn_out, I, H, true);
  L.ffn_norm = load_encoder_layer_norm(ffn_norm, H, p.layer_norm_eps);
  if (p.positions == PositionKind::RelativeKey || p.positions == PositionKind::RelativeKeyQuery)
    L.distance_embedding =
        att_self.pp("distance_embedding").get("weight", {2 * p.max_position_embeddings - 1, p.head_dim});
  if (p.naming == EncoderNaming::DebertaV2 && p.deberta.relative_attention) {
    IA_CHECK(rel_embeddings, w.prefix(), ": DeBERTa relative attention needs the relative embeddings");
    const DebertaOptions& d = p.deberta;
    if (d.c2p)
      L.pos_key = project_table(*rel_embeddings, d.share_att_key ? L.k : Linear::load(att_self.pp("pos_key_proj"), H, A, true));
    if (d.p2c)
      L.pos_query =
          project_table(*rel_embeddings, d.share_att_key ? L.q : Linear::load(att_self.pp("pos_query_proj"), H, A, true));
  }
  return L;
}

void EncoderScratch::ensure(const EncoderParams& p, const EncoderBatch& b, bool need_bias) {
  const int64_t N = b.B * b.T, A = p.num_heads * p.head_dim;
  auto fit = [](Tensor& t, Shape s) {
    if (!t.defined() || t.shape() != s) t = Tensor::f32(std::move(s));
  };
  fit(q, {N, A});
  fit(k, {N, A});
  fit(v, {N, A});
  fit(ctx, {N, A});
  fit(attn, {N, p.hidden_size});
  fit(h, {N, p.hidden_size});
  fit(ffn, {N, p.intermediate_size});
  if (need_bias) fit(bias, {b.B, p.num_heads, b.T, b.T});
}

namespace {

// Shaw / Huang relative position scores: q_i . E[i-j] (+ k_j . E[i-j]) per head, times `scale`.
void relative_key_bias(const EncoderLayer& L, const EncoderParams& p, const EncoderBatch& b, const float* q,
                       const float* k, float scale, float* bias) {
  const int64_t T = b.T, nh = p.num_heads, D = p.head_dim, A = nh * D, P = p.max_position_embeddings;
  IA_CHECK(T <= P, p.config_label, ": sequence length ", T, " exceeds max_position_embeddings (", P,
           ") that bounds relative distances");
  const bool with_key = p.positions == PositionKind::RelativeKeyQuery;
  const float* E = L.distance_embedding.f32();
#pragma omp parallel for collapse(2) schedule(static) if (b.B * nh * T * T * D > 32768)
  for (int64_t bb = 0; bb < b.B; ++bb)
    for (int64_t h = 0; h < nh; ++h) {
      float* out = bias + (bb * nh + h) * T * T;
      for (int64_t i = 0; i < T; ++i) {
        const float* qi = q + (bb * T + i) * A + h * D;
        for (int64_t j = 0; j < T; ++j) {
          const float* e = E + (i - j + P - 1) * D;
          float s = cpu::dot(qi, e, D);
          if (with_key) s += cpu::dot(k + (bb * T + j) * A + h * D, e, D);
          out[i * T + j] = s * scale;
        }
      }
    }
}

}  // namespace

void encoder_layer_forward(const EncoderLayer& L, const EncoderParams& p, const EncoderBatch& b, Tensor& x,
                           EncoderScratch& s) {
  const int64_t N = b.B * b.T, T = b.T, nh = p.num_heads, D = p.head_dim, A = nh * D, H = p.hidden_size;
  const bool deberta = p.naming == EncoderNaming::DebertaV2;
  const bool rel_bert = p.positions == PositionKind::RelativeKey || p.positions == PositionKind::RelativeKeyQuery;
  const bool rel_deberta = deberta && p.deberta.relative_attention && (p.deberta.c2p || p.deberta.p2c);
  s.ensure(p, b, rel_bert || rel_deberta);

  L.q.forward(x.f32(), N, s.q.f32());
  L.k.forward(x.f32(), N, s.k.f32());
  L.v.forward(x.f32(), N, s.v.f32());

  AttentionSpec spec;
  spec.n_heads = spec.n_kv_heads = nh;
  spec.head_dim = D;
  spec.causal = p.is_decoder;
  float scale = 1.f / std::sqrt(float(D));
  if (deberta) {
    // DeBERTa divides by sqrt(head_dim * (1 + #pos_att_type)) whether or not relative attention is on.
    const int sf = 1 + (p.deberta.c2p ? 1 : 0) + (p.deberta.p2c ? 1 : 0);
    scale = 1.f / std::sqrt(float(D) * float(sf));
  }
  spec.scale = scale;

  AttentionArgs a;
  a.B = b.B;
  a.Tq = a.Tk = T;
  a.q = s.q.f32(), a.q_row = A, a.q_batch = T * A;
  a.k = s.k.f32(), a.k_row = A, a.k_batch = T * A;
  a.v = s.v.f32(), a.v_row = A, a.v_batch = T * A;
  a.out = s.ctx.f32(), a.out_row = A, a.out_batch = T * A;
  if (b.any_padding) a.key_mask = b.mask.data(), a.key_mask_batch = T;
  if (rel_bert) {
    // BERT adds the relative scores before dividing by sqrt(d); ALBERT adds them after.
    const float bias_scale = p.naming == EncoderNaming::Albert ? 1.f : scale;
    relative_key_bias(L, p, b, s.q.f32(), s.k.f32(), bias_scale, s.bias.f32());
    a.bias = s.bias.f32(), a.bias_batch = nh * T * T;
  } else if (rel_deberta) {
    deberta_disentangled_bias(L, p, b, s.q.f32(), s.k.f32(), s.bias.f32());
    a.bias = s.bias.f32(), a.bias_batch = nh * T * T;
  }
  attention(spec, a);
  if (!deberta) {
    // A row with no real token: transformers adds finfo.min to every score, which swamps them all equally,
    // so each query averages every value vector uniformly.
    for (int64_t bb : b.masked_rows) {
      std::vector<float> mean(size_t(A), 0.f);
      for (int64_t j = 0; j < T; ++j) cpu::add_inplace(mean.data(), s.v.f32() + (bb * T + j) * A, A);
      cpu::scale_inplace(mean.data(), 1.f / float(T), A);
      for (int64_t i = 0; i < T; ++i) std::memcpy(s.ctx.f32() + (bb * T + i) * A, mean.data(), size_t(A) * sizeof(float));
    }
  }
  if (deberta && b.any_padding) {
    // XSoftmax masks query rows too: padded queries attend to nothing and get a zero context.
    for (int64_t r = 0; r < N; ++r)
      if (b.mask[size_t(r)] == 0) std::memset(s.ctx.f32() + r * A, 0, size_t(A) * sizeof(float));
  }

  L.o.forward(s.ctx.f32(), N, s.attn.f32());
  cpu::add_inplace(s.attn.f32(), x.f32(), N * H);
  L.attn_norm.forward(s.attn.f32(), N, s.h.f32());
  L.ffn_in.forward(s.h.f32(), N, s.ffn.f32());
  cpu::apply_act(p.act, s.ffn.f32(), N * p.intermediate_size);
  L.ffn_out.forward(s.ffn.f32(), N, s.attn.f32());
  cpu::add_inplace(s.attn.f32(), s.h.f32(), N * H);
  L.ffn_norm.forward(s.attn.f32(), N, x.f32());
}

}  // namespace ia
