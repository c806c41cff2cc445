// Encoder and decoder stacks of the encoder-decoder template: weight loading
// and the block forward pass (pre-norm T5 / post-norm BART), with the decoder's
// self-attention KV cache and the cross-attention cache.
#include "templates/encoder_decoder/encdec_model.h"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "parts/attention.h"

namespace ia {

struct EncDecModel::Norm {
  bool rms = true;
  RMSNorm r;
  LayerNorm l;
  static Norm load(const EncDecParams& p, const Weights& w) {
    Norm n;
    n.rms = p.norm == EncDecNorm::RMSNorm;
    if (n.rms) n.r = RMSNorm::load(w, p.d_model, p.norm_eps);
    else n.l = LayerNorm::load(w, p.d_model, p.norm_eps, true);
    return n;
  }
  void forward(const float* x, int64_t rows, float* y) const {
    if (rms) r.forward(x, rows, y);
    else l.forward(x, rows, y);
  }
};

struct EncDecModel::Attention {
  Linear q, k, v, o;
  static Attention load(const EncDecParams& p, const Weights& w, int64_t inner) {
    Attention a;
    a.q = Linear::load(w.pp(p.q), p.d_model, inner, p.attn_bias);
    a.k = Linear::load(w.pp(p.k), p.d_model, inner, p.attn_bias && p.attn_k_bias);
    a.v = Linear::load(w.pp(p.v), p.d_model, inner, p.attn_bias);
    a.o = Linear::load(w.pp(p.o), inner, p.d_model, p.attn_bias);
    return a;
  }
};

struct EncDecModel::Layer {
  Norm self_norm, cross_norm, ffn_norm;
  Attention self, cross;
  std::unique_ptr<EncDecFeedForward> ffn;
};

struct EncDecModel::Stack {
  EncDecStack geo;
  bool decoder = false;
  int64_t inner = 0;
  float scale = 1.f;
  std::vector<Layer> layers;
  bool has_embed_norm = false, has_final_norm = false;
  Norm embed_norm, final_norm;
  Embedding pos;          // learned positions (BART)
  T5RelativeBias rel;     // relative buckets (T5), from the first layer
};

EncDecModel::EncDecModel(const ModelContext& ctx, FeedForwardFactory ffn)
    : EncDecModel(ctx, encdec_params_from_config(ctx), std::move(ffn)) {}

EncDecModel::EncDecModel(const ModelContext& ctx, EncDecParams params, FeedForwardFactory ffn) : p_(std::move(params)) {
  nlohmann::json defaults = nlohmann::json::object();
  for (const auto& [key, value] : p_.generation_defaults) defaults[key] = value;
  gen_ = read_generate_config(ctx.generation_config ? &*ctx.generation_config : nullptr, ctx.config, defaults);
  load(ctx, ffn ? ffn : FeedForwardFactory(make_dense_ffn));
}

EncDecModel::~EncDecModel() = default;

void EncDecModel::load(const ModelContext& ctx, const FeedForwardFactory& ffn) {
  const EncDecParams& p = p_;
  Weights root(ctx.checkpoint, p.weight_prefix);
  Weights base;
  bool found = false;
  for (const auto& cand : p.base_candidates) {
    Weights b = cand.empty() ? root : root.pp(cand);
    if (b.has(p.shared + ".weight") || b.has(p.enc_name + ".embed_tokens.weight")) {
      base = b;
      found = true;
      break;
    }
  }
  IA_CHECK(found, ctx.dir, ": no token embedding '", p.shared, ".weight' (or ", p.enc_name,
           ".embed_tokens.weight) in the checkpoint — is this a ", p.model_type, " checkpoint?");
  shared_ = Embedding::load(base.has(p.shared + ".weight") ? base.pp(p.shared) : base.pp(p.enc_name).pp("embed_tokens"),
                            p.vocab, p.d_model);

  auto load_stack = [&](const std::string& name, const EncDecStack& geo, bool decoder) {
    auto st = std::make_unique<Stack>();
    st->geo = geo;
    st->decoder = decoder;
    st->inner = geo.heads * geo.head_dim;
    st->scale = p.scale_queries ? float(1.0 / std::sqrt(double(geo.head_dim))) : 1.f;
    Weights sw = base.pp(name);
    for (int64_t i = 0; i < geo.layers; ++i) {
      Weights lw = sw.pp(p.layers).pp(i);
      Layer L;
      L.self = Attention::load(p, lw.pp(p.self_attn), st->inner);
      L.self_norm = Norm::load(p, lw.pp(p.self_norm));
      if (decoder) {
        L.cross = Attention::load(p, lw.pp(p.cross_attn), st->inner);
        L.cross_norm = Norm::load(p, lw.pp(p.cross_norm));
      }
      L.ffn_norm = Norm::load(p, lw.pp(decoder ? p.dec_ffn_norm : p.enc_ffn_norm));
      const std::string& fname = decoder ? p.dec_ffn : p.enc_ffn;
      L.ffn = ffn(p, fname.empty() ? lw : lw.pp(fname), decoder, i, geo.ffn_dim);
      IA_CHECK(L.ffn != nullptr, p.model_type, ": no feed-forward part for ", name, " layer ", i);
      st->layers.push_back(std::move(L));
    }
    if (p.pos == EncDecPos::RelativeBuckets && geo.layers > 0) {
      Tensor table = sw.pp(p.layers).pp(0).pp(p.self_attn).pp(p.rel_bias).get("weight", {p.num_buckets, geo.heads});
      st->rel = T5RelativeBias(table, !decoder, p.max_distance);
    }
    if (p.pos == EncDecPos::Learned) st->pos = Embedding::load(sw.pp(p.pos_embed), p.max_positions + p.pos_offset, p.d_model);
    st->has_embed_norm = p.embed_norm;
    if (p.embed_norm) st->embed_norm = Norm::load(p, sw.pp(p.embed_norm_name));
    st->has_final_norm = p.final_norm;
    if (p.final_norm) st->final_norm = Norm::load(p, sw.pp(p.final_norm_name));
    return st;
  };
  if (!p.external_encoder) enc_ = load_stack(p.enc_name, p.enc, false);
  if (p.head == EncDecHead::EncoderOnly) return;
  dec_ = load_stack(p.dec_name, p.dec, true);
  if (p.head != EncDecHead::ConditionalGeneration) return;
  if (p.tie_embeddings) lm_head_ = Linear::from(shared_.table, Tensor());
  else lm_head_ = Linear::load(root.pp(p.lm_head), p.d_model, p.vocab, false);
  logits_bias_.assign(size_t(p.vocab), 0.f);
  if (p.final_logits_bias) {
    // A buffer transformers re-creates as zeros when the checkpoint lacks it.
    if (auto b = root.maybe(p.logits_bias, {1, p.vocab})) std::memcpy(logits_bias_.data(), b->f32(), size_t(p.vocab) * 4);
  }
}

nlohmann::json EncDecModel::ffn_describe(bool decoder) const {
  nlohmann::json r = nlohmann::json::array();
  const Stack* st = decoder ? dec_.get() : enc_.get();
  if (st)
    for (const Layer& L : st->layers) r.push_back(L.ffn->describe());
  return r;
}

EncDecFeedForward* EncDecModel::feed_forward(bool decoder, int64_t layer) const {
  const Stack* st = decoder ? dec_.get() : enc_.get();
  IA_CHECK(st && layer >= 0 && layer < int64_t(st->layers.size()), p_.model_type, ": no ",
           decoder ? "decoder" : "encoder", " layer ", layer);
  return st->layers[size_t(layer)].ffn.get();
}

namespace {

template <typename T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

const float* EncDecModel::encode(const int64_t* ids, const int64_t* mask, int64_t B, int64_t S) {
  IA_CHECK(B > 0 && S > 0, p_.model_type, ": the encoder needs at least one token per row");
  IA_CHECK(enc_, p_.model_type, ": the encoder is external (set_encoder_output), not token-based");
  B_ = B;
  S_ = S;
  enc_mask_.resize(size_t(B * S));
  for (int64_t i = 0; i < B * S; ++i) enc_mask_[size_t(i)] = mask ? (mask[i] != 0 ? 1 : 0) : 1;
  run_encoder(ids, B, S);
  return enc_out_.data();
}

void EncDecModel::set_encoder_output(const float* states, const int64_t* mask, int64_t B, int64_t S) {
  IA_CHECK(B > 0 && S > 0 && states, p_.model_type, ": encoder output must hold at least one position per row");
  B_ = B;
  S_ = S;
  enc_mask_.resize(size_t(B * S));
  for (int64_t i = 0; i < B * S; ++i) enc_mask_[size_t(i)] = mask ? (mask[i] != 0 ? 1 : 0) : 1;
  enc_out_.assign(states, states + B * S * p_.d_model);
}

void EncDecModel::start_decoding(int64_t capacity) {
  IA_CHECK(dec_, p_.model_type, ": ", p_.architecture, " has no decoder");
  IA_CHECK(B_ > 0, p_.model_type, ": start_decoding before encode");
  const Stack& d = *dec_;
  self_cache_.reset(d.geo.layers, B_, std::max<int64_t>(capacity, 1), d.inner, d.inner);
  // The decoder's relative bias grows with the cache: size it once, not per step.
  if (d.rel.defined()) grow(bias_, size_t(d.geo.heads * std::max<int64_t>(capacity, 1)));
  cross_cache_.reset(d.geo.layers, B_, S_, d.inner, d.inner, enc_mask_.data());
  for (int64_t l = 0; l < d.geo.layers; ++l)
    cross_cache_.fill(l, d.layers[size_t(l)].cross.k, d.layers[size_t(l)].cross.v, enc_out_.data());
}

namespace {

// Runs a sublayer f(in, out) with the row's residual/norm placement on x [N, D].
template <typename F>
void sublayer(bool pre_norm, const EncDecModel::Norm& n, float* x, float* h, float* tmp, int64_t N, int64_t D, F&& f) {
  if (pre_norm) {
    n.forward(x, N, h);
    f(h, tmp);
    cpu::add_inplace(x, tmp, N * D);
  } else {
    f(x, tmp);
    cpu::add_inplace(tmp, x, N * D);
    n.forward(tmp, N, x);
  }
}

}  // namespace

void EncDecModel::run_encoder(const int64_t* ids, int64_t B, int64_t S) {
  const Stack& st = *enc_;
  const int64_t D = p_.d_model, N = B * S, H = st.geo.heads, inner = st.inner;
  grow(x_, size_t(N * D));
  grow(h_, size_t(N * D));
  grow(tmp_, size_t(N * D));
  grow(q_, size_t(N * inner));
  grow(k_, size_t(N * inner));
  grow(v_, size_t(N * inner));
  grow(att_, size_t(N * inner));
  float* x = x_.data();
  shared_.lookup(ids, N, x, "input id");
  if (p_.embed_scale != 1.f) cpu::scale_inplace(x, p_.embed_scale, N * D);
  if (p_.pos == EncDecPos::Learned) {
    grow(pos_, size_t(N));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < S; ++t) pos_[size_t(b * S + t)] = t + p_.pos_offset;
    st.pos.lookup_add(pos_.data(), N, x, "encoder position (input longer than max_position_embeddings?)");
  }
  if (st.has_embed_norm) {
    st.embed_norm.forward(x, N, h_.data());
    std::memcpy(x, h_.data(), size_t(N * D) * 4);
  }
  const float* bias = nullptr;
  if (st.rel.defined()) {
    grow(bias_, size_t(H * S * S));
    st.rel.compute(0, S, S, bias_.data());
    bias = bias_.data();
  }
  AttentionSpec spec;
  spec.n_heads = spec.n_kv_heads = H;
  spec.head_dim = st.geo.head_dim;
  spec.scale = st.scale;
  AttentionArgs a;
  a.B = B;
  a.Tq = a.Tk = S;
  a.q = q_.data();
  a.k = k_.data();
  a.v = v_.data();
  a.q_row = a.k_row = a.v_row = a.out_row = inner;
  a.q_batch = a.k_batch = a.v_batch = a.out_batch = S * inner;
  a.out = att_.data();
  a.key_mask = enc_mask_.data();
  a.key_mask_batch = S;
  a.bias = bias;
  a.bias_batch = 0;
  for (const Layer& L : st.layers) {
    sublayer(p_.pre_norm, L.self_norm, x, h_.data(), tmp_.data(), N, D, [&](const float* in, float* out) {
      L.self.q.forward(in, N, q_.data());
      L.self.k.forward(in, N, k_.data());
      L.self.v.forward(in, N, v_.data());
      attention(spec, a);
      L.self.o.forward(att_.data(), N, out);
    });
    sublayer(p_.pre_norm, L.ffn_norm, x, h_.data(), tmp_.data(), N, D,
             [&](const float* in, float* out) { L.ffn->forward_batch(in, B, S, out); });
  }
  grow(enc_out_, size_t(N * D));
  if (st.has_final_norm) st.final_norm.forward(x, N, enc_out_.data());
  else std::memcpy(enc_out_.data(), x, size_t(N * D) * 4);
}

void EncDecModel::run_decoder(const int64_t* tokens, int64_t T, const int64_t* decoder_mask) {
  const Stack& st = *dec_;
  const int64_t B = B_, D = p_.d_model, N = B * T, H = st.geo.heads, inner = st.inner;
  const int64_t past = self_cache_.length(), cap = self_cache_.capacity();
  IA_CHECK(past + T <= cap, p_.model_type, ": decoding ", past + T, " positions exceeds the cache capacity ", cap);
  grow(x_, size_t(N * D));
  grow(h_, size_t(N * D));
  grow(tmp_, size_t(N * D));
  grow(q_, size_t(N * inner));
  grow(k_, size_t(N * inner));
  grow(v_, size_t(N * inner));
  grow(att_, size_t(N * inner));
  float* x = x_.data();
  shared_.lookup(tokens, N, x, "decoder input id");
  if (p_.embed_scale != 1.f) cpu::scale_inplace(x, p_.embed_scale, N * D);
  if (p_.pos == EncDecPos::Learned) {
    grow(pos_, size_t(N));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) pos_[size_t(b * T + t)] = past + t + p_.pos_offset;
    st.pos.lookup_add(pos_.data(), N, x, "decoder position (longer than max_position_embeddings?)");
  }
  if (st.has_embed_norm) {
    st.embed_norm.forward(x, N, h_.data());
    std::memcpy(x, h_.data(), size_t(N * D) * 4);
  }
  self_cache_.append_mask(T, decoder_mask);
  const float* bias = nullptr;
  if (st.rel.defined()) {
    grow(bias_, size_t(H * T * (past + T)));
    st.rel.compute(past, T, past + T, bias_.data());
    bias = bias_.data();
  }
  AttentionSpec self_spec;
  self_spec.n_heads = self_spec.n_kv_heads = H;
  self_spec.head_dim = st.geo.head_dim;
  self_spec.scale = st.scale;
  self_spec.causal = true;
  AttentionArgs sa;
  sa.B = B;
  sa.Tq = T;
  sa.Tk = past + T;
  sa.q = q_.data();
  sa.q_row = sa.out_row = inner;
  sa.q_batch = sa.out_batch = T * inner;
  sa.k_row = sa.v_row = inner;
  sa.k_batch = self_cache_.k_batch_stride();
  sa.v_batch = self_cache_.v_batch_stride();
  sa.out = att_.data();
  sa.key_mask = self_cache_.mask();
  sa.key_mask_batch = cap;
  sa.q_pos0 = past;
  sa.bias = bias;
  sa.bias_batch = 0;

  AttentionSpec cross_spec = self_spec;
  cross_spec.causal = false;
  AttentionArgs ca;
  ca.B = B;
  ca.Tq = T;
  ca.Tk = S_;
  ca.q = q_.data();
  ca.q_row = ca.out_row = inner;
  ca.q_batch = ca.out_batch = T * inner;
  ca.k_row = cross_cache_.k_row();
  ca.v_row = cross_cache_.v_row();
  ca.k_batch = cross_cache_.k_batch_stride();
  ca.v_batch = cross_cache_.v_batch_stride();
  ca.out = att_.data();
  ca.key_mask = cross_cache_.mask();
  ca.key_mask_batch = S_;

  for (int64_t l = 0; l < st.geo.layers; ++l) {
    const Layer& L = st.layers[size_t(l)];
    sublayer(p_.pre_norm, L.self_norm, x, h_.data(), tmp_.data(), N, D, [&](const float* in, float* out) {
      L.self.q.forward(in, N, q_.data());
      L.self.k.forward(in, N, k_.data());
      L.self.v.forward(in, N, v_.data());
      self_cache_.write(l, T, k_.data(), inner, v_.data(), inner);
      sa.k = self_cache_.keys(l);
      sa.v = self_cache_.values(l);
      attention(self_spec, sa);
      L.self.o.forward(att_.data(), N, out);
    });
    sublayer(p_.pre_norm, L.cross_norm, x, h_.data(), tmp_.data(), N, D, [&](const float* in, float* out) {
      L.cross.q.forward(in, N, q_.data());
      ca.k = cross_cache_.keys(l);
      ca.v = cross_cache_.values(l);
      attention(cross_spec, ca);
      L.cross.o.forward(att_.data(), N, out);
    });
    sublayer(p_.pre_norm, L.ffn_norm, x, h_.data(), tmp_.data(), N, D,
             [&](const float* in, float* out) { L.ffn->forward_batch(in, B, T, out); });
  }
  self_cache_.advance(T);
  grow(dec_out_, size_t(N * D));
  if (st.has_final_norm) st.final_norm.forward(x, N, dec_out_.data());
  else std::memcpy(dec_out_.data(), x, size_t(N * D) * 4);
}

const float* EncDecModel::decode(const int64_t* tokens, int64_t T, const int64_t* decoder_mask) {
  IA_CHECK(dec_ && cross_cache_.batch() == B_ && B_ > 0, p_.model_type, ": decode before encode/start_decoding");
  IA_CHECK(T > 0, p_.model_type, ": decode needs at least one token per row");
  run_decoder(tokens, T, decoder_mask);
  if (p_.head != EncDecHead::ConditionalGeneration) return nullptr;
  const int64_t N = B_ * T, D = p_.d_model, V = p_.vocab;
  grow(logits_, size_t(N * V));
  const float* hidden = dec_out_.data();
  if (p_.lm_head_scale != 1.f) {
    grow(h_, size_t(N * D));
    for (int64_t i = 0; i < N * D; ++i) h_[size_t(i)] = dec_out_[size_t(i)] * p_.lm_head_scale;
    hidden = h_.data();
  }
  lm_head_.forward(hidden, N, logits_.data());
  if (p_.final_logits_bias)
    for (int64_t r = 0; r < N; ++r) cpu::add_inplace(logits_.data() + r * V, logits_bias_.data(), V);
  return logits_.data();
}

}  // namespace ia
