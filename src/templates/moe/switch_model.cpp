// switch_transformers on the encoder-decoder template: the config row (T5 weight
// names with SwitchTransformersConfig defaults), the sparse-step layout, the FFN
// factory and the router outputs.
#include "templates/moe/switch_model.h"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ia {

namespace {

int64_t positive(const HFConfig& c, const char* key, int64_t def) {
  int64_t v = c.get_int(key, def);
  IA_CHECK(v > 0, c.label(), ": ", key, " must be positive, got ", v);
  return v;
}

int64_t sparse_step(const HFConfig& c, const char* step_key, const char* count_key, int64_t layers) {
  if (c.has(step_key)) return c.get_int(step_key);
  const int64_t n_sparse = c.get_int(count_key, 3);
  if (n_sparse > 0) return layers / n_sparse;  // Python // on positive ints
  return layers;  // the config's "HACK": a step that makes no block sparse unless layers == 1
}

std::vector<bool> sparse_blocks(int64_t layers, int64_t step) {
  std::vector<bool> r(size_t(layers), false);
  if (step <= 0) return r;
  for (int64_t i = 0; i < layers; ++i) r[size_t(i)] = i % step == 1 || step == 1;
  return r;
}

EncDecParams switch_params(const ModelContext& ctx) {
  const HFConfig& c = ctx.config;
  const std::string& a = ctx.architecture;
  EncDecHead head = EncDecHead::ConditionalGeneration;
  if (a == "SwitchTransformersModel") head = EncDecHead::BaseModel;
  else if (a == "SwitchTransformersEncoderModel") head = EncDecHead::EncoderOnly;
  else if (!a.empty() && a != "SwitchTransformersForConditionalGeneration")
    throw Unsupported(cat(c.label(), ": architecture '", a,
                          "' is not implemented (supported: SwitchTransformersForConditionalGeneration, "
                          "SwitchTransformersModel, SwitchTransformersEncoderModel)"));
  // Same weight names and block structure as T5; the geometry defaults are
  // SwitchTransformersConfig's, and the FFN is never gated (dense_act_fn only).
  EncDecParams p = t5_params_from_config(ctx);
  p.head = head;
  p.vocab = positive(c, "vocab_size", 32128);
  p.d_model = positive(c, "d_model", 768);
  const int64_t d_kv = positive(c, "d_kv", 64), d_ff = positive(c, "d_ff", 2048);
  const int64_t heads = positive(c, "num_heads", 12);
  const int64_t n_enc = positive(c, "num_layers", 12);
  // num_decoder_layers: 12 by default, num_layers when explicitly null.
  const bool dec_null = c.raw().contains("num_decoder_layers") && c.raw()["num_decoder_layers"].is_null();
  const int64_t n_dec = dec_null ? n_enc : positive(c, "num_decoder_layers", 12);
  p.enc = {n_enc, heads, d_kv, d_ff};
  p.dec = {n_dec, heads, d_kv, d_ff};
  p.num_buckets = positive(c, "relative_attention_num_buckets", 32);
  p.max_distance = positive(c, "relative_attention_max_distance", 128);
  IA_CHECK(p.num_buckets >= 4, c.label(), ": relative_attention_num_buckets must be at least 4, got ", p.num_buckets);
  p.norm_eps = float(c.get_float("layer_norm_epsilon", 1e-6));
  p.act_name = c.get_string("dense_act_fn", "relu");
  p.act = cpu::act_from_name(p.act_name, c.label());
  p.gated_ffn = false;
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
  p.lm_head_scale = p.tie_embeddings ? float(std::pow(double(p.d_model), -0.5)) : 1.f;
  p.enc_ffn = "layer.1.mlp";
  p.dec_ffn = "layer.2.mlp";
  return p;
}

SwitchRouterParams router_params(const HFConfig& c) {
  SwitchRouterParams r;
  r.n_experts = positive(c, "num_experts", 8);
  r.capacity = c.get_int("expert_capacity", 64);
  r.bias = c.get_bool("router_bias", false);
  r.dtype_name = c.get_string("router_dtype", "float32");
  r.dtype = router_dtype_from_name(r.dtype_name, c.label());
  return r;
}

}  // namespace

SwitchLayout switch_layout_from_config(const HFConfig& c, int64_t n_enc, int64_t n_dec) {
  SwitchLayout l;
  l.encoder_sparse_step = sparse_step(c, "encoder_sparse_step", "num_sparse_encoder_layers", n_enc);
  l.decoder_sparse_step = sparse_step(c, "decoder_sparse_step", "num_sparse_decoder_layers", n_dec);
  l.encoder_sparse = sparse_blocks(n_enc, l.encoder_sparse_step);
  l.decoder_sparse = sparse_blocks(n_dec, l.decoder_sparse_step);
  return l;
}

SwitchModel::SwitchModel(const ModelContext& ctx) : SwitchModel(ctx, switch_params(ctx), router_params(ctx.config)) {}

SwitchModel::SwitchModel(const ModelContext& ctx, EncDecParams params, SwitchRouterParams router)
    : EncDecModel(ctx, params,
                  [&router, &ctx](const EncDecParams& p, const Weights& module, bool decoder, int64_t i,
                                  int64_t ffn_dim) -> std::unique_ptr<EncDecFeedForward> {
                    const SwitchLayout l = switch_layout_from_config(ctx.config, p.enc.layers, p.dec.layers);
                    const std::vector<bool>& sparse = decoder ? l.decoder_sparse : l.encoder_sparse;
                    if (sparse[size_t(i)])
                      return std::make_unique<SwitchSparseFfn>(router, module, p.d_model, ffn_dim, p.act, p.act_name);
                    return make_dense_ffn(p, module, decoder, i, ffn_dim);
                  }),
      layout_(switch_layout_from_config(ctx.config, params.enc.layers, params.dec.layers)),
      router_(router) {
  const EncDecParams& p = this->params();
  for (int64_t i = 0; i < p.enc.layers; ++i)
    if (auto* s = sparse_block(false, i)) s->set_recorder(&recorder_, analytics_layer(false, i));
  if (p.head != EncDecHead::EncoderOnly)
    for (int64_t i = 0; i < p.dec.layers; ++i)
      if (auto* s = sparse_block(true, i)) s->set_recorder(&recorder_, analytics_layer(true, i));
  start_recording();
}

SwitchSparseFfn* SwitchModel::sparse_block(bool decoder, int64_t block) const {
  return dynamic_cast<SwitchSparseFfn*>(feed_forward(decoder, block));
}

void SwitchModel::start_recording() {
  const EncDecParams& p = params();
  recorder_.reset(p.enc.layers + p.dec.layers, router_.n_experts);
  for (int d = 0; d < 2; ++d) {
    const int64_t n = d ? (p.head == EncDecHead::EncoderOnly ? 0 : p.dec.layers) : p.enc.layers;
    for (int64_t i = 0; i < n; ++i)
      if (auto* s = sparse_block(d == 1, i)) s->reset_dropped();
  }
}

int64_t SwitchModel::dropped_tokens() const {
  const EncDecParams& p = params();
  int64_t n = 0;
  for (int d = 0; d < 2; ++d) {
    const int64_t layers = d ? (p.head == EncDecHead::EncoderOnly ? 0 : p.dec.layers) : p.enc.layers;
    for (int64_t i = 0; i < layers; ++i)
      if (auto* s = sparse_block(d == 1, i)) n += s->dropped_total();
  }
  return n;
}

TensorMap SwitchModel::forward(const TensorMap& inputs) {
  start_recording();
  TensorMap out = EncDecModel::forward(inputs);
  const EncDecParams& p = params();
  auto add = [&](bool decoder, int64_t layers) {
    const char* prefix = decoder ? "decoder_" : "encoder_";
    for (int64_t i = 0; i < layers; ++i) {
      const SwitchSparseFfn* s = sparse_block(decoder, i);
      if (!s) continue;
      const int64_t B = s->last_batch(), T = s->last_seq(), E = s->n_experts();
      Tensor lg = Tensor::f32({B, T, E});
      std::memcpy(lg.f32(), s->router_logits().data(), size_t(B * T * E) * 4);
      Tensor idx = Tensor::empty(DType::I64, {B, T});
      std::memcpy(idx.i64(), s->expert_index().data(), size_t(B * T) * 8);
      out[std::string(prefix) + "router_logits." + std::to_string(i)] = lg;
      out[std::string(prefix) + "expert_index." + std::to_string(i)] = idx;
    }
  };
  add(false, p.enc.layers);
  if (p.head != EncDecHead::EncoderOnly) add(true, p.dec.layers);
  return out;
}

TensorMap SwitchModel::generate(const TensorMap& inputs, const GenerateOptions& opts) {
  start_recording();
  return EncDecModel::generate(inputs, opts);
}

nlohmann::json SwitchModel::describe() const {
  nlohmann::json j = EncDecModel::describe();
  j["template"] = "mixture-of-experts (encoder-decoder with Switch top-1 FFN)";
  auto sparse_ids = [](const std::vector<bool>& v) {
    std::vector<int64_t> r;
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i]) r.push_back(int64_t(i));
    return r;
  };
  j["moe"] = {{"num_experts", router_.n_experts},
              {"num_experts_per_tok", 1},
              {"expert_capacity", router_.capacity},
              {"router_dtype", router_.dtype_name},
              {"router_bias", router_.bias},
              {"encoder_sparse_step", layout_.encoder_sparse_step},
              {"decoder_sparse_step", layout_.decoder_sparse_step},
              {"encoder_sparse_layers", sparse_ids(layout_.encoder_sparse)},
              {"decoder_sparse_layers", sparse_ids(layout_.decoder_sparse)},
              {"routing",
               "softmax -> top-1 with per-row expert capacity (cumsum order); dropped tokens pass "
               "prob * input as in 4.44; jitter off at inference"}};
  return j;
}

}  // namespace ia
