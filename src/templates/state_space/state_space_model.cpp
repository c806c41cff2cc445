// State-space model: weight loading, the piecewise runner and the public
// prefill / decode / state API.
#include "templates/state_space/state_space_model.h"

#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "templates/state_space/ssm_layers.h"

namespace ia {

namespace {

// -exp(v) elementwise (A = -exp(A_log), RWKV decay = -exp(time_decay)).
Tensor neg_exp(const Tensor& t) {
  Tensor r = Tensor::f32(t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) r.f32()[i] = -std::exp(t.f32()[i]);
  return r;
}

// A Linear whose weight is divided by `div` (RWKV's inference-mode rescaling, done once at load).
Linear load_scaled(const Weights& w, int64_t in, int64_t out, float div) {
  if (div == 1.f) return Linear::load(w, in, out, false);
  Tensor t = w.get("weight", {out, in}).clone();  // never write into the mmap'd checkpoint
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] /= div;
  return Linear::from(t, Tensor());
}

// time_mix parameters are stored [1, 1, hidden].
Tensor get_mix(const Weights& w, const std::string& name, int64_t hidden) {
  return w.get(name, {1, 1, hidden}).reshape({hidden});
}

}  // namespace

StateSpaceModel::~StateSpaceModel() = default;

StateSpaceModel::StateSpaceModel(const ModelContext& ctx) {
  p_ = read_ssm_params(ctx.config, ctx.generation_config ? &*ctx.generation_config : nullptr, ctx.model_type);
  const int64_t H = p_.hidden, V = p_.vocab;
  Weights root(ctx.checkpoint);
  const float eps = float(p_.eps);
  Weights base;
  if (p_.kind == SsmKind::Rwkv) {
    base = resolve_base(root, {"rwkv", ""}, "embeddings.weight");
    embed_ = Embedding::load(base.pp("embeddings"), V, H);
    final_ln_ = LayerNorm::load(base.pp("ln_out"), H, eps);
    const int64_t A = p_.attention_hidden, F = p_.rwkv_intermediate;
    rwkv_.resize(size_t(p_.n_layers));
    for (int64_t l = 0; l < p_.n_layers; ++l) {
      RwkvLayer& L = rwkv_[size_t(l)];
      Weights b = base.pp("blocks").pp(l);
      if (l == 0) L.pre_ln = LayerNorm::load(b.pp("pre_ln"), H, eps);
      L.ln1 = LayerNorm::load(b.pp("ln1"), H, eps);
      L.ln2 = LayerNorm::load(b.pp("ln2"), H, eps);
      // 4.44 divides these two weights by 2^(layer // rescale_every) when the model enters
      // inference mode, and halves the hidden state after every rescale_every-th block.
      const float div = p_.rescale_every > 0 ? std::ldexp(1.f, int(l / p_.rescale_every)) : 1.f;
      Weights at = b.pp("attention");
      L.decay = neg_exp(at.get("time_decay", {A}));
      L.first = at.get("time_first", {A});
      L.att_mix_k = get_mix(at, "time_mix_key", H);
      L.att_mix_v = get_mix(at, "time_mix_value", H);
      L.att_mix_r = get_mix(at, "time_mix_receptance", H);
      L.att_key = Linear::load(at.pp("key"), H, A, false);
      L.att_value = Linear::load(at.pp("value"), H, A, false);
      L.att_receptance = Linear::load(at.pp("receptance"), H, A, false);
      L.att_output = load_scaled(at.pp("output"), A, H, div);
      Weights ff = b.pp("feed_forward");
      L.ffn_mix_k = get_mix(ff, "time_mix_key", H);
      L.ffn_mix_r = get_mix(ff, "time_mix_receptance", H);
      L.ffn_key = Linear::load(ff.pp("key"), H, F, false);
      L.ffn_receptance = Linear::load(ff.pp("receptance"), H, H, false);
      L.ffn_value = load_scaled(ff.pp("value"), F, H, div);
    }
    if (p_.tie_embeddings) lm_head_ = Linear::from(embed_.table, Tensor());
    else if (root.has("head.weight")) lm_head_ = Linear::load(root.pp("head"), H, V, false);
  } else {
    base = resolve_base(root, {"backbone", ""}, "embeddings.weight");
    embed_ = Embedding::load(base.pp("embeddings"), V, H);
    final_rms_ = RMSNorm::load(base.pp("norm_f"), H, eps);
    const int64_t I = p_.intermediate, N = p_.state_size, K = p_.conv_kernel, R = p_.time_step_rank;
    for (int64_t l = 0; l < p_.n_layers; ++l) {
      Weights b = base.pp("layers").pp(l);
      Weights mx = b.pp("mixer");
      if (p_.kind == SsmKind::Mamba) {
        MambaLayer L;
        L.norm = RMSNorm::load(b.pp("norm"), H, eps);
        L.in_proj = Linear::load(mx.pp("in_proj"), H, 2 * I, p_.use_bias);
        L.conv = CausalConv1d::load(mx.pp("conv1d"), I, K, p_.use_conv_bias);
        L.x_proj = Linear::load(mx.pp("x_proj"), I, R + 2 * N, false);
        L.dt_proj = Linear::load(mx.pp("dt_proj"), R, I, true);
        L.out_proj = Linear::load(mx.pp("out_proj"), I, H, p_.use_bias);
        L.A = neg_exp(mx.get("A_log", {I, N}));
        L.D = mx.get("D", {I});
        mamba_.push_back(std::move(L));
      } else {
        const int64_t G = p_.n_groups, NH = p_.n_heads, conv_dim = I + 2 * G * N;
        Mamba2Layer L;
        L.norm = RMSNorm::load(b.pp("norm"), H, eps);
        // in_proj may carry 2 * d_mlp leading rows that 4.44's mixer splits off and ignores.
        Tensor w = mx.get_raw("in_proj.weight");
        IA_CHECK(w.rank() == 2 && w.dim(1) == H && w.dim(0) >= I + conv_dim + NH && (w.dim(0) - I - conv_dim - NH) % 2 == 0,
                 ctx.checkpoint->file_of(mx.full("in_proj.weight")), ": tensor '", mx.full("in_proj.weight"),
                 "' has shape ", shape_str(w.shape()), " but the config implies [", I + conv_dim + NH, ", ", H, "]");
        d_mlp_ = (w.dim(0) - I - conv_dim - NH) / 2;
        L.in_proj = Linear::load(mx.pp("in_proj"), H, w.dim(0), p_.use_bias);
        L.conv = CausalConv1d::load(mx.pp("conv1d"), conv_dim, K, p_.use_conv_bias);
        L.out_proj = Linear::load(mx.pp("out_proj"), I, H, p_.use_bias);
        L.A = neg_exp(mx.get("A_log", {NH}));
        L.D = mx.get("D", {NH});
        L.dt_bias = mx.get("dt_bias", {NH});
        L.gnorm_w = mx.get("norm.weight", {I});
        mamba2_.push_back(std::move(L));
      }
    }
    if (p_.tie_embeddings) lm_head_ = Linear::from(embed_.table, Tensor());
    else if (root.has("lm_head.weight")) lm_head_ = Linear::load(root.pp("lm_head"), H, V, false);
  }
  const bool causal_lm = ctx.architecture.find("ForCausalLM") != std::string::npos;
  IA_CHECK(!causal_lm || lm_head_.defined(), ctx.checkpoint->description(), ": ", ctx.architecture,
           " needs '", p_.kind == SsmKind::Rwkv ? "head.weight" : "lm_head.weight",
           "' (tie_word_embeddings is false)");
  configure_state();
}

void StateSpaceModel::configure_state() {
  std::vector<RecurrentState::Slot> slots;
  const int64_t S = p_.conv_kernel - 1;
  switch (p_.kind) {
    case SsmKind::Mamba:
      slots = {{"conv", {std::max<int64_t>(S, 1), p_.intermediate}, 0.f}, {"ssm", {p_.intermediate, p_.state_size}, 0.f}};
      break;
    case SsmKind::Mamba2:
      slots = {{"conv", {std::max<int64_t>(S, 1), p_.intermediate + 2 * p_.n_groups * p_.state_size}, 0.f},
               {"ssm", {p_.n_heads, p_.head_dim, p_.state_size}, 0.f}};
      break;
    case SsmKind::Rwkv:
      // The order of 4.44's state list: ffn shift, attention shift, wkv numerator, denominator, running max.
      slots = {{"ffn_shift", {p_.hidden}, 0.f},
               {"att_shift", {p_.hidden}, 0.f},
               {"att_num", {p_.attention_hidden}, 0.f},
               {"att_den", {p_.attention_hidden}, 0.f},
               {"att_max", {p_.attention_hidden}, -1e30f}};
      break;
  }
  state_.configure(p_.n_layers, std::move(slots));
}

void StateSpaceModel::reset_state(int64_t batch) {
  state_.reset(batch);
  stats_ = StateStats{};
}

void StateSpaceModel::run_piece(const int64_t* ids, const int64_t* mask, int64_t T) {
  const int64_t B = state_.batch(), M = B * T, H = p_.hidden;
  float* x = grow(x_, size_t(M * H));
  embed_.lookup(ids, M, x, "input id");
  for (int64_t l = 0; l < p_.n_layers; ++l) {
    switch (p_.kind) {
      case SsmKind::Mamba: mamba_block(l, T); break;
      case SsmKind::Mamba2: mamba2_block(l, T, mask); break;
      case SsmKind::Rwkv: rwkv_block(l, T); break;
    }
  }
  float* out = grow(out_, size_t(M * H));
  if (p_.kind == SsmKind::Rwkv) final_ln_.forward(x, M, out);
  else final_rms_.forward(x, M, out);
  state_.advance(T);
}

const float* StateSpaceModel::feed(const int64_t* ids, const int64_t* mask, int64_t T, int64_t chunk_size) {
  const int64_t B = state_.batch(), H = p_.hidden;
  IA_CHECK(B > 0, p_.model_type, ": feed() before reset_state()/load_state()");
  IA_CHECK(T > 0, p_.model_type, ": feed() needs at least one token per row");
  if (chunk_size <= 0 || chunk_size >= T) {
    const auto t0 = std::chrono::steady_clock::now();
    run_piece(ids, mask, T);
    stats_.prefill_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats_.chunks_processed += 1;
    stats_.tokens_prefilled += T;
    return out_.data();
  }
  // Pieces of `chunk_size` tokens; each piece's hidden states are gathered into `all`.
  std::vector<float> all(size_t(B * T * H));
  for (int64_t s = 0; s < T; s += chunk_size) {
    const int64_t c = std::min(chunk_size, T - s);
    piece_ids_.resize(size_t(B * c));
    if (mask) piece_mask_.resize(size_t(B * c));
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(piece_ids_.data() + b * c, ids + b * T + s, size_t(c) * 8);
      if (mask) std::memcpy(piece_mask_.data() + b * c, mask + b * T + s, size_t(c) * 8);
    }
    const auto t0 = std::chrono::steady_clock::now();
    run_piece(piece_ids_.data(), mask ? piece_mask_.data() : nullptr, c);
    stats_.prefill_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats_.chunks_processed += 1;
    stats_.tokens_prefilled += c;
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(all.data() + (b * T + s) * H, out_.data() + b * c * H, size_t(c * H) * 4);
  }
  float* out = grow(out_, all.size());
  std::memcpy(out, all.data(), all.size() * 4);
  return out;
}

const float* StateSpaceModel::prefill_chunked(const int64_t* ids, const int64_t* mask, int64_t B, int64_t T,
                                              int64_t chunk_size) {
  IA_CHECK(B > 0 && T > 0, p_.model_type, ": prefill needs at least one token per row");
  IA_CHECK(lm_head_.defined(), p_.model_type, ": this checkpoint has no LM head (base model); cannot produce logits");
  reset_state(B);
  const float* hidden = feed(ids, mask, T, chunk_size);
  const int64_t H = p_.hidden;
  float* last = grow(tmp_, size_t(B * H));
  for (int64_t b = 0; b < B; ++b) std::memcpy(last + b * H, hidden + (b * T + T - 1) * H, size_t(H) * 4);
  float* logits = grow(logits_, size_t(B * p_.vocab));
  logits_of(last, B, logits);
  return logits;
}

const float* StateSpaceModel::prefill(const int64_t* ids, const int64_t* mask, int64_t batch, int64_t prompt_len,
                                      int64_t /*capacity*/) {
  // As generate(): 4.44 applies the padding mask only to multi-token prompts.
  return prefill_chunked(ids, prompt_len > 1 ? mask : nullptr, batch, prompt_len, 0);
}

const float* StateSpaceModel::decode_step(const int64_t* tokens) {
  const int64_t B = state_.batch();
  IA_CHECK(B > 0, p_.model_type, ": decode_step before prefill");
  IA_CHECK(lm_head_.defined(), p_.model_type, ": this checkpoint has no LM head (base model); cannot produce logits");
  const auto t0 = std::chrono::steady_clock::now();
  run_piece(tokens, nullptr, 1);
  float* logits = grow(logits_, size_t(B * p_.vocab));
  logits_of(out_.data(), B, logits);
  stats_.decode_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats_.tokens_decoded += 1;
  return logits;
}

void StateSpaceModel::logits_of(const float* hidden, int64_t rows, float* out) const {
  IA_CHECK(lm_head_.defined(), p_.model_type, ": this checkpoint has no LM head (base model); cannot produce logits");
  lm_head_.forward(hidden, rows, out);
}

std::map<std::string, std::string> StateSpaceModel::state_identity() const {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(p_.config_hash));
  return {{"model_type", p_.model_type}, {"config_hash", hash}};
}

void StateSpaceModel::save_state(const std::string& path) const { state_.save(path, state_identity()); }

void StateSpaceModel::load_state(const std::string& path) {
  state_.load(path, state_identity());
  stats_ = StateStats{};
}

size_t StateSpaceModel::kv_cache_equivalent_bytes(int64_t tokens) const {
  // One K and one V row of `hidden` floats per token per layer.
  return size_t(2) * size_t(p_.n_layers) * size_t(tokens) * size_t(p_.hidden) * sizeof(float) * size_t(state_.batch());
}

std::vector<std::string> StateSpaceModel::tasks() const {
  if (lm_head_.defined()) return {"text-generation"};
  return {"feature-extraction"};
}

}  // namespace ia
