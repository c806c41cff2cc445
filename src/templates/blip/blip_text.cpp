#include "templates/blip/blip_text.h"

#include <omp.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/attention.h"

namespace ia {

BlipTextModel::BlipTextModel(const BlipTextParams& p, const Weights& w, bool pooler)
    : p_(p), act_(cpu::act_from_name(p.act, "text_config.hidden_act")) {
  const int64_t H = p.hidden;
  Weights e = w.pp("embeddings");
  word_ = Embedding::load(e.pp("word_embeddings"), p.vocab, H);
  pos_ = Embedding::load(e.pp("position_embeddings"), p.max_positions, H);
  emb_ln_ = LayerNorm::load(e.pp("LayerNorm"), H, p.eps);
  for (int64_t i = 0; i < p.layers; ++i) {
    Weights lw = w.pp("encoder").pp("layer").pp(i);
    Layer L;
    Weights a = lw.pp("attention");
    L.q = Linear::load(a.pp("self").pp("query"), H, H, true);
    L.k = Linear::load(a.pp("self").pp("key"), H, H, true);
    L.v = Linear::load(a.pp("self").pp("value"), H, H, true);
    L.o = Linear::load(a.pp("output").pp("dense"), H, H, true);
    L.ln_attn = LayerNorm::load(a.pp("output").pp("LayerNorm"), H, p.eps);
    if (lw.has_module("crossattention")) {
      Weights c = lw.pp("crossattention");
      L.cq = Linear::load(c.pp("self").pp("query"), H, H, true);
      L.ck = Linear::load(c.pp("self").pp("key"), p.encoder_hidden, H, true);
      L.cv = Linear::load(c.pp("self").pp("value"), p.encoder_hidden, H, true);
      L.co = Linear::load(c.pp("output").pp("dense"), H, H, true);
      L.ln_cross = LayerNorm::load(c.pp("output").pp("LayerNorm"), H, p.eps);
      has_cross_ = true;
    }
    L.inter = Linear::load(lw.pp("intermediate").pp("dense"), H, p.intermediate, true);
    L.out = Linear::load(lw.pp("output").pp("dense"), p.intermediate, H, true);
    L.ln_out = LayerNorm::load(lw.pp("output").pp("LayerNorm"), H, p.eps);
    layers_.push_back(std::move(L));
  }
  for (const auto& L : layers_)
    IA_CHECK(L.cq.defined() == has_cross_, w.prefix(), ": crossattention weights present in some layers only");
  if (pooler) pooler_ = Linear::load(w.pp("pooler").pp("dense"), H, H, true);
}

void BlipTextModel::init_cache(Cache& c, int64_t B, int64_t capacity, const Tensor& encoder) const {
  IA_CHECK(has_cross_, "blip: the text decoder has no crossattention weights (text_config.is_decoder)");
  IA_CHECK(encoder.rank() == 3 && encoder.dim(0) == B && encoder.dim(2) == p_.encoder_hidden,
           "blip: image embeddings ", shape_str(encoder.shape()), " must be [", B, ", T, ", p_.encoder_hidden, "]");
  const int64_t H = p_.hidden, Ti = encoder.dim(1);
  c.B = B, c.cap = capacity, c.len = 0, c.Ti = Ti;
  c.k.assign(layers_.size(), Tensor());
  c.v.assign(layers_.size(), Tensor());
  c.ck.assign(layers_.size(), Tensor());
  c.cv.assign(layers_.size(), Tensor());
  c.mask.assign(size_t(B * capacity), 1);
  for (size_t l = 0; l < layers_.size(); ++l) {
    c.k[l] = Tensor::zeros(DType::F32, {B, capacity, H});
    c.v[l] = Tensor::zeros(DType::F32, {B, capacity, H});
    c.ck[l] = Tensor::f32({B, Ti, H});
    c.cv[l] = Tensor::f32({B, Ti, H});
    layers_[l].ck.forward(encoder.f32(), B * Ti, c.ck[l].f32());
    layers_[l].cv.forward(encoder.f32(), B * Ti, c.cv[l].f32());
  }
}

namespace {

// Self-attention with transformers' extended mask: score/sqrt(d) + (1 - causal*mask) * -10000.
void masked_self_attention(const float* q, int64_t T, const float* k, const float* v, int64_t kv_batch, int64_t Tk,
                           int64_t past, const int64_t* mask /*[B, mask_stride]*/, int64_t mask_stride, bool causal,
                           int64_t B, int64_t heads, int64_t hd, float* out) {
  const int64_t H = heads * hd;
  const float denom = std::sqrt(float(hd));
  const int nt = omp_get_max_threads();
  std::vector<float> scratch(size_t(nt) * size_t(Tk + hd));
#pragma omp parallel for schedule(dynamic) if (B * heads * T * Tk * hd > 32768)
  for (int64_t bh = 0; bh < B * heads; ++bh) {
    const int64_t b = bh / heads, h = bh % heads;
    float* sc = scratch.data() + size_t(omp_get_thread_num()) * size_t(Tk + hd);
    float* acc = sc + Tk;
    for (int64_t i = 0; i < T; ++i) {
      const float* qi = q + (b * T + i) * H + h * hd;
      for (int64_t j = 0; j < Tk; ++j) {
        float s = cpu::dot(qi, k + b * kv_batch + j * H + h * hd, hd) / denom;
        const bool keep = (!causal || j <= past + i) && (mask == nullptr || mask[b * mask_stride + j] != 0);
        sc[j] = keep ? s : s + -10000.f;
      }
      cpu::softmax_inplace(sc, Tk);
      for (int64_t d = 0; d < hd; ++d) acc[d] = 0.f;
      for (int64_t j = 0; j < Tk; ++j) {
        const float* vj = v + b * kv_batch + j * H + h * hd;
        for (int64_t d = 0; d < hd; ++d) acc[d] += sc[j] * vj[d];
      }
      std::memcpy(out + (b * T + i) * H + h * hd, acc, size_t(hd) * sizeof(float));
    }
  }
}

}  // namespace

Tensor BlipTextModel::run(const int64_t* ids, int64_t B, int64_t T, const int64_t* mask, bool causal,
                          const Tensor* encoder, Cache* cache) const {
  const int64_t H = p_.hidden, n = B * T, hd = H / p_.heads;
  const int64_t past = cache ? cache->len : 0;
  IA_CHECK(past + T <= p_.max_positions, "blip: sequence of ", past + T,
           " tokens exceeds text_config.max_position_embeddings ", p_.max_positions);
  if (cache) {
    IA_CHECK(cache->B == B && past + T <= cache->cap, "blip: decoder cache of ", cache->cap, " positions is full");
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) cache->mask[size_t(b * cache->cap + past + t)] = mask ? mask[b * T + t] : 1;
  }
  if (encoder && !cache) {
    IA_CHECK(has_cross_, "blip: the text model has no crossattention weights");
    IA_CHECK(encoder->rank() == 3 && encoder->dim(0) == B && encoder->dim(2) == p_.encoder_hidden,
             "blip: image embeddings ", shape_str(encoder->shape()), " must be [", B, ", T, ", p_.encoder_hidden, "]");
  }
  // Embeddings: word + absolute position (offset by the cached length), LayerNorm.
  Tensor x = Tensor::f32({B, T, H});
  word_.lookup(ids, n, x.f32(), "input id");
  std::vector<int64_t> pos(static_cast<size_t>(n));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) pos[size_t(b * T + t)] = past + t;
  pos_.lookup_add(pos.data(), n, x.f32(), "position id");
  Tensor h = Tensor::f32({B, T, H});
  emb_ln_.forward(x.f32(), n, h.f32());

  Tensor q = Tensor::f32({n, H}), ctx = Tensor::f32({n, H}), tmp = Tensor::f32({n, H});
  Tensor mid = Tensor::f32({n, p_.intermediate});
  Tensor kself, vself;
  if (!cache) {
    kself = Tensor::f32({n, H});
    vself = Tensor::f32({n, H});
  }
  const bool cross = cache || encoder;
  const int64_t Ti = cache ? cache->Ti : (encoder ? encoder->dim(1) : 0);
  Tensor ckt, cvt;
  if (cross && !cache) {
    ckt = Tensor::f32({B * Ti, H});
    cvt = Tensor::f32({B * Ti, H});
  }
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    // Self-attention (post-norm residual).
    L.q.forward(h.f32(), n, q.f32());
    const float *kp, *vp;
    int64_t kv_batch, Tk;
    const int64_t* m;
    int64_t mstride;
    if (cache) {
      Tensor kn = Tensor::f32({n, H}), vn = Tensor::f32({n, H});
      L.k.forward(h.f32(), n, kn.f32());
      L.v.forward(h.f32(), n, vn.f32());
      for (int64_t b = 0; b < B; ++b) {
        std::memcpy(cache->k[l].f32() + (b * cache->cap + past) * H, kn.f32() + b * T * H, size_t(T * H) * 4);
        std::memcpy(cache->v[l].f32() + (b * cache->cap + past) * H, vn.f32() + b * T * H, size_t(T * H) * 4);
      }
      kp = cache->k[l].f32(), vp = cache->v[l].f32(), kv_batch = cache->cap * H, Tk = past + T;
      m = cache->mask.data(), mstride = cache->cap;
    } else {
      L.k.forward(h.f32(), n, kself.f32());
      L.v.forward(h.f32(), n, vself.f32());
      kp = kself.f32(), vp = vself.f32(), kv_batch = T * H, Tk = T;
      m = mask, mstride = T;
    }
    masked_self_attention(q.f32(), T, kp, vp, kv_batch, Tk, past, m, mstride, causal, B, p_.heads, hd, ctx.f32());
    L.o.forward(ctx.f32(), n, tmp.f32());
    cpu::add_inplace(tmp.f32(), h.f32(), n * H);
    L.ln_attn.forward(tmp.f32(), n, h.f32());
    // Cross-attention to the image embeddings (encoder mask is all ones).
    if (cross) {
      const float *ck, *cv;
      if (cache) {
        ck = cache->ck[l].f32(), cv = cache->cv[l].f32();
      } else {
        L.ck.forward(encoder->f32(), B * Ti, ckt.f32());
        L.cv.forward(encoder->f32(), B * Ti, cvt.f32());
        ck = ckt.f32(), cv = cvt.f32();
      }
      L.cq.forward(h.f32(), n, q.f32());
      AttentionSpec s;
      s.n_heads = s.n_kv_heads = p_.heads;
      s.head_dim = hd;
      s.scale = 1.f / std::sqrt(float(hd));
      AttentionArgs a;
      a.B = B, a.Tq = T, a.Tk = Ti;
      a.q = q.f32(), a.q_row = H, a.q_batch = T * H;
      a.k = ck, a.k_row = H, a.k_batch = Ti * H;
      a.v = cv, a.v_row = H, a.v_batch = Ti * H;
      a.out = ctx.f32(), a.out_row = H, a.out_batch = T * H;
      attention(s, a);
      L.co.forward(ctx.f32(), n, tmp.f32());
      cpu::add_inplace(tmp.f32(), h.f32(), n * H);
      L.ln_cross.forward(tmp.f32(), n, h.f32());
    }
    // Feed-forward.
    L.inter.forward(h.f32(), n, mid.f32());
    cpu::apply_act(act_, mid.f32(), mid.numel());
    L.out.forward(mid.f32(), n, tmp.f32());
    cpu::add_inplace(tmp.f32(), h.f32(), n * H);
    L.ln_out.forward(tmp.f32(), n, h.f32());
  }
  if (cache) cache->len += T;
  return h;
}

Tensor BlipTextModel::pool(const Tensor& hidden) const {
  IA_CHECK(pooler_.defined(), "blip: text model has no pooler");
  const int64_t B = hidden.dim(0), T = hidden.dim(1), H = p_.hidden;
  Tensor first = Tensor::f32({B, H}), out = Tensor::f32({B, H});
  for (int64_t b = 0; b < B; ++b) std::memcpy(first.f32() + b * H, hidden.f32() + b * T * H, size_t(H) * 4);
  pooler_.forward(first.f32(), B, out.f32());
  cpu::apply_act(cpu::Act::Tanh, out.f32(), out.numel());
  return out;
}

BlipLMHead::BlipLMHead(const BlipTextParams& p, const Weights& w, const Embedding& tied)
    : p_(p), act_(cpu::act_from_name(p.act, "text_config.hidden_act")) {
  const int64_t H = p.hidden;
  dense_ = Linear::load(w.pp("transform").pp("dense"), H, H, true);
  ln_ = LayerNorm::load(w.pp("transform").pp("LayerNorm"), H, p.eps);
  // decoder.bias is tied to predictions.bias; decoder.weight may be tied to the word embeddings.
  Tensor bias = w.get("bias", {p.vocab});
  Tensor weight = w.has("decoder.weight") ? w.pp("decoder").get_raw("weight", {p.vocab, H}) : tied.table;
  decoder_ = Linear::from(weight, bias);
}

void BlipLMHead::forward(const float* hidden, int64_t rows, float* logits) const {
  Tensor t = Tensor::f32({rows, p_.hidden}), n = Tensor::f32({rows, p_.hidden});
  dense_.forward(hidden, rows, t.f32());
  cpu::apply_act(act_, t.f32(), t.numel());
  ln_.forward(t.f32(), rows, n.f32());
  decoder_.forward(n.f32(), rows, logits);
}

}  // namespace ia
