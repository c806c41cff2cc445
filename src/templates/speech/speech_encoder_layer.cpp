// The speech encoder block (see speech_encoder_layer.h).
#include "templates/speech/speech_encoder_layer.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/attention.h"

namespace ia {

namespace {

void grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

SpeechEncoderLayer SpeechEncoderLayer::load(const Weights& w, const SpeechLayerGeometry& g, const SpeechLayerNames& n) {
  IA_CHECK(g.heads > 0 && g.d_model % g.heads == 0, w.prefix(), ": hidden size ", g.d_model,
           " is not divisible by the number of attention heads ", g.heads);
  SpeechEncoderLayer L;
  L.g_ = g;
  const Weights a = w.pp(n.attn);
  L.q_ = Linear::load(a.pp(n.q), g.d_model, g.d_model, true);
  L.k_ = Linear::load(a.pp(n.k), g.d_model, g.d_model, n.k_bias);
  L.v_ = Linear::load(a.pp(n.v), g.d_model, g.d_model, true);
  L.o_ = Linear::load(a.pp(n.o), g.d_model, g.d_model, true);
  L.fc1_ = Linear::load(w.pp(n.fc1), g.d_model, g.ffn_dim, true);
  L.fc2_ = Linear::load(w.pp(n.fc2), g.ffn_dim, g.d_model, true);
  L.attn_norm_ = LayerNorm::load(w.pp(n.attn_norm), g.d_model, g.eps, true);
  L.ffn_norm_ = LayerNorm::load(w.pp(n.ffn_norm), g.d_model, g.eps, true);
  return L;
}

void SpeechEncoderLayer::forward(float* x, int64_t B, int64_t T, const int64_t* key_mask, SpeechLayerWork& w) const {
  const int64_t D = g_.d_model, N = B * T, F = g_.ffn_dim;
  grow(w.h, size_t(N * D));
  grow(w.q, size_t(N * D));
  grow(w.k, size_t(N * D));
  grow(w.v, size_t(N * D));
  grow(w.att, size_t(N * D));
  grow(w.tmp, size_t(N * D));
  grow(w.ffn, size_t(N * F));

  AttentionSpec spec;
  spec.n_heads = spec.n_kv_heads = g_.heads;
  spec.head_dim = D / g_.heads;
  spec.scale = float(1.0 / std::sqrt(double(spec.head_dim)));
  AttentionArgs a;
  a.B = B;
  a.Tq = a.Tk = T;
  a.q = w.q.data();
  a.k = w.k.data();
  a.v = w.v.data();
  a.out = w.att.data();
  a.q_row = a.k_row = a.v_row = a.out_row = D;
  a.q_batch = a.k_batch = a.v_batch = a.out_batch = T * D;
  a.key_mask = key_mask;
  a.key_mask_batch = T;

  auto attn = [&](const float* in, float* out) {
    q_.forward(in, N, w.q.data());
    k_.forward(in, N, w.k.data());
    v_.forward(in, N, w.v.data());
    attention(spec, a);
    o_.forward(w.att.data(), N, out);
  };
  auto ffn = [&](const float* in, float* out) {
    fc1_.forward(in, N, w.ffn.data());
    cpu::apply_act(g_.act, w.ffn.data(), N * F);
    fc2_.forward(w.ffn.data(), N, out);
  };
  if (g_.pre_norm) {
    attn_norm_.forward(x, N, w.h.data());
    attn(w.h.data(), w.tmp.data());
    cpu::add_inplace(x, w.tmp.data(), N * D);
    ffn_norm_.forward(x, N, w.h.data());
    ffn(w.h.data(), w.tmp.data());
    cpu::add_inplace(x, w.tmp.data(), N * D);
  } else {
    attn(x, w.tmp.data());
    cpu::add_inplace(w.tmp.data(), x, N * D);
    attn_norm_.forward(w.tmp.data(), N, x);
    ffn(x, w.tmp.data());
    cpu::add_inplace(w.tmp.data(), x, N * D);
    ffn_norm_.forward(w.tmp.data(), N, x);
  }
}

}  // namespace ia
