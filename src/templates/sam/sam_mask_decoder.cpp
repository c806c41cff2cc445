#include "templates/sam/sam_mask_decoder.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/attention.h"

namespace ia {

namespace {

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor r = a.clone();
  cpu::add_inplace(r.f32(), b.f32(), r.numel());
  return r;
}

// a [n, T, H] + b [T, H] broadcast over n.
Tensor add_broadcast(const Tensor& a, const Tensor& b) {
  Tensor r = a.clone();
  const int64_t per = b.numel();
  for (int64_t i = 0; i < a.numel() / per; ++i) cpu::add_inplace(r.f32() + i * per, b.f32(), per);
  return r;
}

}  // namespace

SamMaskDecoder::Attn SamMaskDecoder::Attn::load(const Weights& w, int64_t hidden, int64_t internal, int64_t heads) {
  Attn a;
  a.internal = internal;
  a.heads = heads;
  a.q = Linear::load(w.pp("q_proj"), hidden, internal, true);
  a.k = Linear::load(w.pp("k_proj"), hidden, internal, true);
  a.v = Linear::load(w.pp("v_proj"), hidden, internal, true);
  a.o = Linear::load(w.pp("out_proj"), internal, hidden, true);
  return a;
}

Tensor SamMaskDecoder::Attn::forward(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in) const {
  const int64_t n = q_in.dim(0), Tq = q_in.dim(1), Tk = k_in.dim(1);
  Tensor q = this->q.forward(q_in), k = this->k.forward(k_in), v = this->v.forward(v_in);
  Tensor o = Tensor::f32({n, Tq, internal});
  AttentionSpec s;
  s.n_heads = s.n_kv_heads = heads;
  s.head_dim = internal / heads;
  s.scale = 1.f / std::sqrt(float(s.head_dim));
  AttentionArgs a;
  a.B = n;
  a.Tq = Tq;
  a.Tk = Tk;
  a.q = q.f32(), a.q_row = internal, a.q_batch = Tq * internal;
  a.k = k.f32(), a.k_row = internal, a.k_batch = Tk * internal;
  a.v = v.f32(), a.v_row = internal, a.v_batch = Tk * internal;
  a.out = o.f32(), a.out_row = internal, a.out_batch = Tq * internal;
  attention(s, a);
  return this->o.forward(o);
}

SamMaskDecoder::FeedForward SamMaskDecoder::FeedForward::load(const Weights& w, int64_t in_dim, int64_t hidden,
                                                              int64_t out_dim, int64_t depth) {
  FeedForward f;
  f.in = Linear::load(w.pp("proj_in"), in_dim, hidden, true);
  for (int64_t i = 0; i < depth - 2; ++i) f.mid.push_back(Linear::load(w.pp("layers").pp(i), hidden, hidden, true));
  f.out = Linear::load(w.pp("proj_out"), hidden, out_dim, true);
  return f;
}

Tensor SamMaskDecoder::FeedForward::forward(const Tensor& x) const {
  Tensor h = in.forward(x);
  cpu::apply_act(cpu::Act::Relu, h.f32(), h.numel());
  for (const auto& l : mid) {
    h = l.forward(h);
    cpu::apply_act(cpu::Act::Relu, h.f32(), h.numel());
  }
  return out.forward(h);
}

SamMaskDecoder::SamMaskDecoder(const SamDecoderParams& p, const Weights& w)
    : p_(p), act_(cpu::act_from_name(p.act, "mask_decoder_config.hidden_act")) {
  const int64_t H = p.hidden;
  num_mask_tokens_ = p.num_multimask_outputs + 1;
  iou_token_ = w.pp("iou_token").get("weight", {1, H});
  mask_tokens_ = w.pp("mask_tokens").get("weight", {num_mask_tokens_, H});
  Weights tw = w.pp("transformer");
  for (int64_t i = 0; i < p.layers; ++i) {
    Weights lw = tw.pp("layers").pp(i);
    Block b;
    b.skip_first_layer_pe = i == 0;
    b.self_attn = Attn::load(lw.pp("self_attn"), H, H, p.heads);
    // SamTwoWayAttentionBlock's cross-attentions use its own default downsample rate of 2,
    // not the config's attention_downsample_rate (which only the final attention uses).
    b.t2i = Attn::load(lw.pp("cross_attn_token_to_image"), H, H / 2, p.heads);
    b.i2t = Attn::load(lw.pp("cross_attn_image_to_token"), H, H / 2, p.heads);
    b.ln1 = LayerNorm::load(lw.pp("layer_norm1"), H, p.eps);
    b.ln2 = LayerNorm::load(lw.pp("layer_norm2"), H, p.eps);
    b.ln3 = LayerNorm::load(lw.pp("layer_norm3"), H, p.eps);
    b.ln4 = LayerNorm::load(lw.pp("layer_norm4"), H, p.eps);
    b.lin1 = Linear::load(lw.pp("mlp").pp("lin1"), H, p.mlp_dim, true);
    b.lin2 = Linear::load(lw.pp("mlp").pp("lin2"), p.mlp_dim, H, true);
    blocks_.push_back(std::move(b));
  }
  final_attn_ = Attn::load(tw.pp("final_attn_token_to_image"), H, H / p.attention_downsample_rate, p.heads);
  final_ln_ = LayerNorm::load(tw.pp("layer_norm_final_attn"), H, 1e-5f);  // nn.LayerNorm default eps
  up1_ = ConvTranspose2d::load(w.pp("upscale_conv1"), H, H / 4, 2, 2);
  up2_ = ConvTranspose2d::load(w.pp("upscale_conv2"), H / 4, H / 8, 2, 2);
  up_ln_ = ChannelsFirstLayerNorm::load(w.pp("upscale_layer_norm"), H / 4, 1e-6f);
  for (int64_t i = 0; i < num_mask_tokens_; ++i)
    hyper_.push_back(FeedForward::load(w.pp("output_hypernetworks_mlps").pp(i), H, H, H / 8, 3));
  iou_head_ = FeedForward::load(w.pp("iou_prediction_head"), H, p.iou_head_hidden_dim, num_mask_tokens_,
                                p.iou_head_depth);
}

void SamMaskDecoder::block_forward(const Block& L, Tensor& queries, Tensor& keys, const Tensor& qpe,
                                   const Tensor& kpe) const {
  const int64_t nq = queries.numel() / p_.hidden, nk = keys.numel() / p_.hidden;
  Tensor tmp = Tensor::f32(queries.shape());
  if (L.skip_first_layer_pe) {
    queries = L.self_attn.forward(queries, queries, queries);
  } else {
    Tensor q = add(queries, qpe);
    Tensor o = L.self_attn.forward(q, q, queries);
    cpu::add_inplace(queries.f32(), o.f32(), queries.numel());
  }
  L.ln1.forward(queries.f32(), nq, tmp.f32());
  queries = tmp.clone();

  {
    Tensor q = add(queries, qpe), k = add_broadcast(keys, kpe);
    Tensor o = L.t2i.forward(q, k, keys);
    cpu::add_inplace(queries.f32(), o.f32(), queries.numel());
    L.ln2.forward(queries.f32(), nq, tmp.f32());
    queries = tmp.clone();
  }
  {
    Tensor mid = L.lin1.forward(queries);
    cpu::apply_act(act_, mid.f32(), mid.numel());
    Tensor o = L.lin2.forward(mid);
    cpu::add_inplace(queries.f32(), o.f32(), queries.numel());
    L.ln3.forward(queries.f32(), nq, tmp.f32());
    queries = tmp.clone();
  }
  {
    Tensor q = add(queries, qpe), k = add_broadcast(keys, kpe);
    Tensor o = L.i2t.forward(k, q, queries);
    cpu::add_inplace(keys.f32(), o.f32(), keys.numel());
    Tensor kn = Tensor::f32(keys.shape());
    L.ln4.forward(keys.f32(), nk, kn.f32());
    keys = kn;
  }
}

SamMaskDecoder::Output SamMaskDecoder::forward(const Tensor& image_embeddings, const Tensor& image_pe,
                                               const Tensor& sparse, const Tensor& dense, bool multimask) const {
  const int64_t H = p_.hidden;
  IA_CHECK(image_embeddings.rank() == 4 && image_embeddings.dim(1) == H, "sam: image_embeddings ",
           shape_str(image_embeddings.shape()), " must be [B, ", H, ", h, w] (mask_decoder_config.hidden_size)");
  const int64_t B = image_embeddings.dim(0), h = image_embeddings.dim(2), w = image_embeddings.dim(3), HW = h * w;
  IA_CHECK(image_pe.dim(0) == HW, "sam: image embeddings are ", h, "x", w, " but the prompt encoder's grid has ",
           image_pe.dim(0), " positions (prompt_encoder_config image_size/patch_size)");
  IA_CHECK(dense.dim(0) == B || dense.dim(0) == 1, "sam: dense prompt batch ", dense.dim(0), " != ", B);
  IA_CHECK(dense.dim(2) == h && dense.dim(3) == w, "sam: dense prompt embedding ", shape_str(dense.shape()),
           " does not match image embeddings ", shape_str(image_embeddings.shape()));
  const int64_t P = sparse.dim(1), Ns = sparse.dim(2), M = num_mask_tokens_;
  // Like the reference, the sparse tokens are dropped when they sum to exactly zero (no prompts).
  double total = 0;
  for (int64_t i = 0; i < sparse.numel(); ++i) total += sparse.f32()[i];
  const int64_t Nt = 1 + M + (total != 0 ? Ns : 0);
  // Without prompts the encoder's zero placeholder has batch 1; it is dropped above anyway.
  IA_CHECK(sparse.dim(0) == B || (total == 0 && sparse.dim(0) == 1), "sam: prompts for ", sparse.dim(0),
           " images but ", B, " image embeddings");
  const int64_t n = B * P;

  Tensor tokens = Tensor::f32({n, Nt, H});
  for (int64_t bp = 0; bp < n; ++bp) {
    float* t = tokens.f32() + bp * Nt * H;
    std::memcpy(t, iou_token_.f32(), size_t(H) * sizeof(float));
    std::memcpy(t + H, mask_tokens_.f32(), size_t(M * H) * sizeof(float));
    if (Nt > 1 + M) std::memcpy(t + (1 + M) * H, sparse.f32() + bp * Ns * H, size_t(Ns * H) * sizeof(float));
  }
  // Image tokens per (image, point batch): (embedding + dense) as rows [HW, H].
  Tensor keys = Tensor::f32({n, HW, H});
  for (int64_t b = 0; b < B; ++b) {
    const float* e = image_embeddings.f32() + b * H * HW;
    const float* d = dense.f32() + (dense.dim(0) == 1 ? 0 : b) * H * HW;
    for (int64_t p = 0; p < P; ++p) {
      float* k = keys.f32() + (b * P + p) * HW * H;
      for (int64_t c = 0; c < H; ++c)
        for (int64_t i = 0; i < HW; ++i) k[i * H + c] = e[c * HW + i] + d[c * HW + i];
    }
  }

  Tensor queries = tokens.clone();
  for (const auto& L : blocks_) block_forward(L, queries, keys, tokens, image_pe);
  {
    Tensor q = add(queries, tokens), k = add_broadcast(keys, image_pe);
    Tensor o = final_attn_.forward(q, k, keys);
    cpu::add_inplace(queries.f32(), o.f32(), queries.numel());
    Tensor qn = Tensor::f32(queries.shape());
    final_ln_.forward(queries.f32(), n * Nt, qn.f32());
    queries = qn;
  }

  // Upscale the image tokens back to [n, H, h, w], then x4 with two transposed convolutions.
  Tensor img = Tensor::f32({n, H, h, w});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < HW; ++t)
      for (int64_t c = 0; c < H; ++c) img.f32()[(i * H + c) * HW + t] = keys.f32()[(i * HW + t) * H + c];
  Tensor up = up1_.forward(img);
  up_ln_.forward_inplace(up);
  cpu::apply_act(cpu::Act::GeluExact, up.f32(), up.numel());
  up = up2_.forward(up);
  cpu::apply_act(cpu::Act::GeluExact, up.f32(), up.numel());
  const int64_t C8 = H / 8, Hu = up.dim(2), Wu = up.dim(3), HWu = Hu * Wu;

  // Hypernetwork weights per mask token, then masks = hyper_in . upscaled.
  Tensor hyper_in = Tensor::f32({n, M, C8});
  for (int64_t m = 0; m < M; ++m) {
    Tensor tok = Tensor::f32({n, H});
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(tok.f32() + i * H, queries.f32() + (i * Nt + 1 + m) * H, size_t(H) * sizeof(float));
    Tensor hm = hyper_[size_t(m)].forward(tok);
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(hyper_in.f32() + (i * M + m) * C8, hm.f32() + i * C8, size_t(C8) * sizeof(float));
  }
  Tensor iou_tok = Tensor::f32({n, H});
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(iou_tok.f32() + i * H, queries.f32() + i * Nt * H, size_t(H) * sizeof(float));
  Tensor iou = iou_head_.forward(iou_tok);  // [n, M]

  const int64_t first = multimask ? 1 : 0, count = multimask ? M - 1 : 1;
  Output out;
  out.masks = Tensor::f32({B, P, count, Hu, Wu});
  out.iou_scores = Tensor::f32({B, P, count});
  for (int64_t i = 0; i < n; ++i) {
    cpu::gemm_nn(count, HWu, C8, hyper_in.f32() + (i * M + first) * C8, C8, up.f32() + i * C8 * HWu, HWu,
                 out.masks.f32() + i * count * HWu, HWu);
    for (int64_t m = 0; m < count; ++m) out.iou_scores.f32()[i * count + m] = iou.f32()[i * M + first + m];
  }
  return out;
}

}  // namespace ia
