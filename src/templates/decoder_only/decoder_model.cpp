// Loading and the shared forward pass of the decoder-only template.
#include "templates/decoder_only/decoder_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/alibi.h"
#include "parts/attention.h"
#include "parts/moe_ffn.h"
#include "templates/decoder_only/decoder_layer.h"
#include "templates/decoder_only/decoder_weights.h"

namespace ia {

namespace {

std::unique_ptr<DecoderModel::Norm> load_norm(const DecoderParams& p, const Weights& w, const std::string& name,
                                              int64_t n) {
  if (name.empty()) return nullptr;
  auto norm = std::make_unique<DecoderModel::Norm>();
  norm->kind = p.norm;
  Weights m = w.pp(name);
  if (p.norm == NormKind::LayerNorm) {
    if (p.norm_affine) {
      norm->ln = LayerNorm::load(m, n, p.norm_eps, m.has("bias"));
    } else {
      norm->ln.n = n;
      norm->ln.eps = p.norm_eps;
    }
  } else {
    norm->rms = RMSNorm::load(m, n, p.norm_eps, p.norm == NormKind::GemmaRMSNorm ? 1.f : 0.f);
  }
  return norm;
}

template <typename T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

DecoderModel::~DecoderModel() = default;

DecoderModel::DecoderModel(const ModelContext& ctx) : DecoderModel(ctx, "") {}

DecoderModel::DecoderModel(const ModelContext& ctx, const std::string& weight_prefix)
    : p_(decoder_params_from_config(ctx)) {
  IA_CHECK(ctx.checkpoint != nullptr, ctx.dir, ": no checkpoint opened");
  Weights root(ctx.checkpoint, weight_prefix);
  Weights base = find_base(root, p_.base_candidates, p_.embed + ".weight");
  const int64_t H = p_.hidden, D = p_.head_dim;
  qkv_dim_ = (p_.n_heads + 2 * p_.n_kv_heads) * D;
  kv_dim_ = p_.n_kv_heads * D;

  // Token table kept as stored (zero-copy, F16/BF16 rows converted on lookup); the tied
  // LM head streams the same memory.
  embed_table_ = base.pp(p_.embed).get_raw("weight", {p_.vocab, p_.embed_dim});
  if (embed_table_.dtype() != DType::F32 && embed_table_.dtype() != DType::F16 && embed_table_.dtype() != DType::BF16)
    embed_table_ = embed_table_.to_f32();
  if (!p_.pos_embed.empty()) {
    Tensor t = base.pp(p_.pos_embed).get("weight");
    IA_CHECK(t.rank() == 2 && t.dim(1) == H, base.checkpoint().file_of(base.pp(p_.pos_embed).full("weight")),
             ": position embedding '", base.pp(p_.pos_embed).full("weight"), "' has shape ", shape_str(t.shape()),
             ", expected [positions, ", H, "]");
    pos_embed_.table = t;
    pos_embed_.vocab = t.dim(0);
    pos_embed_.dim = H;
  }
  embed_norm_ = load_norm(p_, base, p_.embed_norm, p_.embed_dim);
  if (!p_.project_in.empty()) project_in_ = Linear::load(base.pp(p_.project_in), p_.embed_dim, H, false);
  if (!p_.project_out.empty()) project_out_ = Linear::load(base.pp(p_.project_out), H, p_.embed_dim, false);
  final_norm_ = load_norm(p_, base, p_.final_norm, H);

  layers_.resize(size_t(p_.n_layers));
  moe_.resize(size_t(p_.n_layers));
  for (int64_t i = 0; i < p_.n_layers; ++i) {
    Weights lw = base.pp(p_.layers).pp(i);
    Layer& L = layers_[size_t(i)];
    L.n1 = load_norm(p_, lw, p_.norm1, H);
    L.n2 = load_norm(p_, lw, p_.norm2, H);
    L.n_post_attn = load_norm(p_, lw, p_.norm_post_attn, H);
    L.n_pre_ff = load_norm(p_, lw, p_.norm_pre_ff, H);
    L.n_post_ff = load_norm(p_, lw, p_.norm_post_ff, H);
    L.qkv = load_fused_qkv(p_, lw);
    L.o = p_.conv1d ? Linear::load_conv1d(lw.pp(p_.o), p_.n_heads * D, H)
                    : Linear::load_auto_bias(lw.pp(p_.o), p_.n_heads * D, H);
    if (!p_.q_norm.empty()) {
      L.qk_norm = true;
      L.q_norm = LayerNorm::load(lw.pp(p_.q_norm), D, p_.norm_eps);
      L.k_norm = LayerNorm::load(lw.pp(p_.k_norm), D, p_.norm_eps);
    }
    if (p_.moe.any() && p_.moe.sparse_layer[size_t(i)]) {
      moe_[size_t(i)] = std::make_unique<MoeFfn>(MoeFfn::load(p_.moe, lw, H, p_.act));
      continue;
    }
    L.up = load_mlp_up(p_, lw);
    L.down = p_.conv1d ? Linear::load_conv1d(lw.pp(p_.down), p_.intermediate, H)
                       : Linear::load_auto_bias(lw.pp(p_.down), p_.intermediate, H);
  }

  // LM head: tied to the token embedding, or stored at the checkpoint root.
  if (p_.tie_embeddings) {
    Tensor bias;
    if (root.has(p_.lm_head + ".bias")) bias = root.get(p_.lm_head + ".bias", {p_.vocab});
    lm_head_ = Linear::from(embed_table_, bias);
  } else {
    lm_head_ = Linear::load_auto_bias(root.pp(p_.lm_head), p_.embed_dim, p_.vocab);
  }

  if (p_.pos == PosKind::Rotary) rope_ = Rope(p_.rope);
  if (p_.pos == PosKind::Alibi) {
    alibi_slopes_ = alibi_slopes(p_.n_heads);
    if (p_.alibi_scaled)
      for (auto& s : alibi_slopes_) s *= p_.attn_scale;
  }
}

void DecoderModel::reset_cache(int64_t batch, int64_t capacity) {
  cache_.reset(p_.n_layers, batch, capacity, kv_dim_, kv_dim_);
  mask_count_.assign(size_t(batch), 0);
  next_pos_.assign(size_t(batch), 0);
  if (p_.pos == PosKind::Alibi) alibi_pos_.assign(size_t(batch * capacity), 0.f);
  hybrid_active_ = false;
}

void DecoderModel::start_hybrid_cache(int64_t max_length) {
  if (!p_.hybrid_cache) return;
  int64_t window = 0;
  for (int64_t w : p_.window) window = std::max(window, w);
  if (window == 0) return;
  hybrid_active_ = true;
  // _get_cache() reuses (and resets) a cache that is big enough for the same batch size.
  if (hf_cache_len_ < max_length || hf_cache_batch_ != cache_.batch()) {
    hf_cache_len_ = max_length;
    hf_cache_batch_ = cache_.batch();
  }
  hybrid_slots_ = std::min(window, hf_cache_len_);
  slot_pos_.assign(size_t(hybrid_slots_), -1);
  slot_k_.resize(size_t(cache_.batch() * hybrid_slots_ * kv_dim_));
  slot_v_.resize(size_t(cache_.batch() * hybrid_slots_ * kv_dim_));
}

void DecoderModel::run(const int64_t* ids, const int64_t* positions, const int64_t* mask, int64_t T) {
  const int64_t B = cache_.batch(), N = B * T, H = p_.hidden, D = p_.head_dim;
  const int64_t past = cache_.length(), cap = cache_.capacity();
  IA_CHECK(past + T <= cap, p_.model_type, ": sequence of ", past + T, " tokens exceeds the cache capacity ", cap);
  const int64_t I = p_.intermediate;
  grow(x_, size_t(N * H));
  grow(h_, size_t(N * std::max(H, p_.embed_dim)));
  grow(qkv_, size_t(N * qkv_dim_));
  grow(att_, size_t(N * p_.n_heads * D));
  grow(tmp_, size_t(N * H));
  grow(mlp_in_, size_t(N * H));
  grow(mid_, size_t(N * I * (p_.mlp == MlpKind::Gated ? 2 : 1)));
  grow(out_, size_t(N * std::max(H, p_.embed_dim)));
  float* x = x_.data();

  // Embeddings.
  float* emb = p_.embed_dim != H ? h_.data() : x;
  if (embeds_in_) std::memcpy(emb, embeds_in_, size_t(N * p_.embed_dim) * 4);
  else lookup_tokens(ids, N, emb);
  if (p_.embed_dim != H) project_in_.forward(h_.data(), N, x);
  if (p_.embed_scale != 1.f) cpu::scale_inplace(x, p_.embed_scale, N * H);
  if (p_.pos == PosKind::Learned) {
    grow(pos_buf_, size_t(N));
    for (int64_t r = 0; r < N; ++r) pos_buf_[size_t(r)] = positions[r] + p_.pos_offset;
    pos_embed_.lookup_add(pos_buf_.data(), N, x, "position id");
  }
  if (embed_norm_) {
    embed_norm_->forward(x, N, h_.data());
    std::memcpy(x, h_.data(), size_t(N * H) * 4);
  }

  // Attention mask and ALiBi positions for the new keys.
  cache_.append_mask(T, mask);
  if (p_.pos == PosKind::Alibi) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < T; ++i) {
        int64_t m = mask ? mask[b * T + i] : 1;
        mask_count_[size_t(b)] += m;
        alibi_pos_[size_t(b * cap + past + i)] = float((mask_count_[size_t(b)] - 1) * m);
      }
  }
  if (p_.pos == PosKind::Rotary) rope_.prepare(positions, N, past + T);

  AttentionSpec spec;
  spec.n_heads = p_.n_heads;
  spec.n_kv_heads = p_.n_kv_heads;
  spec.head_dim = D;
  spec.causal = true;
  spec.softcap = p_.attn_softcap;
  spec.alibi_slopes = p_.pos == PosKind::Alibi ? alibi_slopes_.data() : nullptr;
  spec.masked_rows_uniform = masked_rows_uniform_;
  AttentionArgs a;
  a.B = B;
  a.Tq = T;
  a.Tk = past + T;
  a.q_row = qkv_dim_;
  a.q_batch = T * qkv_dim_;
  a.k_row = kv_dim_;
  a.k_batch = cache_.k_batch_stride();
  a.v_row = kv_dim_;
  a.v_batch = cache_.v_batch_stride();
  a.out = att_.data();
  a.out_row = p_.n_heads * D;
  a.out_batch = T * p_.n_heads * D;
  a.key_mask = cache_.mask();
  a.key_mask_batch = cap;
  a.q_pos0 = past;
  if (p_.pos == PosKind::Alibi) {
    a.alibi_pos = alibi_pos_.data();
    a.alibi_pos_batch = cap;
  }

  // HybridCache ring update (once per call; every sliding layer sees the same slots).
  bool use_slots = false;
  if (hybrid_active_) {
    const int64_t W = hybrid_slots_;
    if (T > W) {  // long prompt: attention sees all keys, the ring keeps the last W
      for (int64_t s = 0; s < W; ++s) slot_pos_[size_t(s)] = past + T - W + s;
    } else {
      if (std::min(past + T - 1, W - 1) >= W - 1) std::rotate(slot_pos_.begin(), slot_pos_.begin() + 1, slot_pos_.end());
      for (int64_t i = 0; i < T; ++i) slot_pos_[size_t(std::min(past + i, W - 1))] = past + i;
      use_slots = true;
    }
  }

  float* h = h_.data();
  float* qkv = qkv_.data();
  float* tmp = tmp_.data();
  float* mid = mid_.data();
  // Decode steps: the whole stack in one parallel region (decoder_team_step.cpp).
  const bool team = team_step_ok(T, use_slots);
  if (team) run_layers_team(spec, a);
  for (int64_t l = 0; !team && l < p_.n_layers; ++l) {
    Layer& L = layers_[size_t(l)];
    // --- attention ---
    if (p_.residual == ResidualKind::PostNorm) std::memcpy(h, x, size_t(N * H) * 4);
    else L.n1->forward(x, N, h);
    L.qkv.forward(h, N, qkv);
    if (L.qk_norm)
      for (int64_t r = 0; r < N; ++r) {
        float* row = qkv + r * qkv_dim_;
        L.q_norm.forward(row, p_.n_heads, row);
        L.k_norm.forward(row + p_.n_heads * D, p_.n_kv_heads, row + p_.n_heads * D);
      }
    if (p_.pos == PosKind::Rotary) {
      rope_.apply(qkv, N, qkv_dim_, p_.n_heads, D);
      rope_.apply(qkv + p_.n_heads * D, N, qkv_dim_, p_.n_kv_heads, D);
    }
    cache_.write(l, T, qkv + p_.n_heads * D, qkv_dim_, qkv + (p_.n_heads + p_.n_kv_heads) * D, qkv_dim_);
    spec.scale = p_.attn_scale * (p_.layer_scale.empty() ? 1.f : p_.layer_scale[size_t(l)]);
    spec.sliding_window = p_.window[size_t(l)];
    if (generating_ && T == 1 && p_.decode_ignores_window) spec.sliding_window = 0;
    a.q = qkv;
    a.k = cache_.keys(l);
    a.v = cache_.values(l);
    if (use_slots && spec.sliding_window > 0) {
      // Attend over the ring's slots exactly as stored (zero slots included); masks are by slot column.
      const int64_t W = hybrid_slots_;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t s = 0; s < W; ++s) {
          float* kd = slot_k_.data() + (b * W + s) * kv_dim_;
          float* vd = slot_v_.data() + (b * W + s) * kv_dim_;
          int64_t src = slot_pos_[size_t(s)];
          if (src < 0) {
            std::fill(kd, kd + kv_dim_, 0.f);
            std::fill(vd, vd + kv_dim_, 0.f);
          } else {
            std::memcpy(kd, a.k + b * a.k_batch + src * kv_dim_, size_t(kv_dim_) * 4);
            std::memcpy(vd, a.v + b * a.v_batch + src * kv_dim_, size_t(kv_dim_) * 4);
          }
        }
      AttentionArgs sa = a;
      sa.Tk = W;
      sa.k = slot_k_.data();
      sa.k_batch = W * kv_dim_;
      sa.v = slot_v_.data();
      sa.v_batch = W * kv_dim_;
      AttentionSpec ss = spec;
      ss.sliding_window = 0;  // the tril window never bites inside the ring (see params)
      attention(ss, sa);
    } else {
      attention(spec, a);
    }
    L.o.forward(att_.data(), N, tmp);  // tmp = attention output [N, H]

    // --- residual + MLP ---
    auto mlp = [&](const float* in, float* out) {
      if (moe_[size_t(l)]) return moe_[size_t(l)]->forward(in, N, out);
      L.up.forward(in, N, mid);
      if (p_.mlp == MlpKind::Gated) {
        for (int64_t r = 0; r < N; ++r) {
          float* g = mid + r * 2 * I;
          cpu::apply_act(p_.act, g, I);
          cpu::mul_inplace(g, g + I, I);
          if (r) std::memmove(mid + r * I, g, size_t(I) * 4);
        }
      } else {
        cpu::apply_act(p_.act, mid, N * I);
      }
      L.down.forward(mid, N, out);
    };
    float* mlp_out = out_.data();
    switch (p_.residual) {
      case ResidualKind::Sequential: {
        const float* res = p_.residual_from_normed ? h : x;
        for (int64_t j = 0; j < N * H; ++j) x[j] = res[j] + tmp[j];
        L.n2->forward(x, N, mlp_in_.data());
        mlp(mlp_in_.data(), mlp_out);
        const float* res2 = p_.residual_from_normed ? mlp_in_.data() : x;
        for (int64_t j = 0; j < N * H; ++j) x[j] = res2[j] + mlp_out[j];
        break;
      }
      case ResidualKind::Parallel: {
        const float* in = h;
        if (L.n2) {
          L.n2->forward(x, N, mlp_in_.data());
          in = mlp_in_.data();
        }
        mlp(in, mlp_out);
        // torch order: (mlp + attn) + residual
        for (int64_t j = 0; j < N * H; ++j) x[j] = (mlp_out[j] + tmp[j]) + x[j];
        break;
      }
      case ResidualKind::PostNorm: {
        for (int64_t j = 0; j < N * H; ++j) tmp[j] += x[j];
        L.n1->forward(tmp, N, x);
        mlp(x, mlp_out);
        for (int64_t j = 0; j < N * H; ++j) tmp[j] = x[j] + mlp_out[j];
        L.n2->forward(tmp, N, x);
        break;
      }
      case ResidualKind::Sandwich: {
        L.n_post_attn->forward(tmp, N, mlp_in_.data());
        for (int64_t j = 0; j < N * H; ++j) x[j] += mlp_in_[size_t(j)];
        L.n_pre_ff->forward(x, N, h);
        mlp(h, mlp_out);
        L.n_post_ff->forward(mlp_out, N, tmp);
        for (int64_t j = 0; j < N * H; ++j) x[j] += tmp[j];
        break;
      }
    }
  }
  cache_.advance(T);

  // Final norm (+ OPT project_out) -> out_.
  float* fin = final_norm_ ? h : x;
  if (final_norm_) final_norm_->forward(x, N, h);
  if (project_out_.defined()) project_out_.forward(fin, N, out_.data());
  else std::memcpy(out_.data(), fin, size_t(N * H) * 4);
}

const float* DecoderModel::run_inputs(const float* embeds, const int64_t* ids, const int64_t* positions,
                                     const int64_t* mask, int64_t T) {
  IA_CHECK(embeds || ids, p_.model_type, ": run_inputs needs embeddings or token ids");
  embeds_in_ = embeds;
  try {
    run(ids, positions, mask, T);
  } catch (...) {
    embeds_in_ = nullptr;
    throw;
  }
  embeds_in_ = nullptr;
  return out_.data();
}

void DecoderModel::lookup_tokens(const int64_t* ids, int64_t n, float* out) const {
  const int64_t D = p_.embed_dim;
  const size_t row_bytes = size_t(D) * dtype_size(embed_table_.dtype());
  const auto* base = static_cast<const unsigned char*>(embed_table_.raw());
  for (int64_t i = 0; i < n; ++i) {
    IA_CHECK(ids[i] >= 0 && ids[i] < p_.vocab, p_.model_type, ": input id ", ids[i],
             " is outside the vocabulary (vocab_size ", p_.vocab, ")");
    convert_to_f32(embed_table_.dtype(), base + size_t(ids[i]) * row_bytes, out + i * D, size_t(D));
  }
}

void DecoderModel::logits_of(const float* hidden, int64_t rows, float* out) {
  lm_head_.forward(hidden, rows, out);
  if (p_.final_softcap > 0.f) {
    const float c = p_.final_softcap;
    for (int64_t j = 0; j < rows * p_.vocab; ++j) out[j] = std::tanh(out[j] / c) * c;
  }
}

}  // namespace ia
