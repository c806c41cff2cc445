// One parameter row per decoder-only model type, read from config.json with the
// defaults each transformers 4.44.2 config class uses. A new model type adds a
// function here, not a forward pass.
#include <cmath>
#include <functional>
#include <map>

#include "core/error.h"
#include "templates/decoder_only/decoder_params.h"
#include "templates/model.h"
#include "templates/moe/moe_rows.h"

namespace ia {

void llama_style_names(DecoderParams& p) {
  p.base_candidates = {"model", ""};
  p.embed = "embed_tokens";
  p.layers = "layers";
  p.norm1 = "input_layernorm";
  p.norm2 = "post_attention_layernorm";
  p.q = "self_attn.q_proj";
  p.k = "self_attn.k_proj";
  p.v = "self_attn.v_proj";
  p.o = "self_attn.o_proj";
  p.gate = "mlp.gate_proj";
  p.up = "mlp.up_proj";
  p.down = "mlp.down_proj";
  p.final_norm = "norm";
}

namespace {

using Row = DecoderRow;

int64_t positive(const HFConfig& c, int64_t v, const char* what) {
  IA_CHECK(v > 0, c.label(), ": ", what, " must be positive, got ", v);
  return v;
}

// Sets head geometry; heads must divide hidden unless the model reads head_dim from the config.
void set_heads(const HFConfig& c, DecoderParams& p, int64_t heads, int64_t kv_heads, int64_t head_dim = 0) {
  p.n_heads = positive(c, heads, "num_attention_heads");
  p.n_kv_heads = positive(c, kv_heads, "num_key_value_heads");
  IA_CHECK(p.n_heads % p.n_kv_heads == 0, c.label(), ": num_attention_heads (", p.n_heads,
           ") must be a multiple of num_key_value_heads (", p.n_kv_heads, ")");
  if (head_dim > 0) {
    p.head_dim = head_dim;
  } else {
    IA_CHECK(p.hidden % p.n_heads == 0, c.label(), ": hidden size ", p.hidden, " is not divisible by the number of heads ",
             p.n_heads);
    p.head_dim = p.hidden / p.n_heads;
  }
  p.attn_scale = float(1.0 / std::sqrt(double(p.head_dim)));
}

void set_act(const HFConfig& c, DecoderParams& p, const std::string& name) {
  p.act_name = name;
  p.act = cpu::act_from_name(name, c.label());
}


// Legacy-table rotary (rotate_half) for the whole head or a part of it.
void legacy_rope(const HFConfig& c, DecoderParams& p, int64_t dim, double base, bool allow_scaling) {
  p.pos = PosKind::Rotary;
  std::vector<RopeType> allowed = {RopeType::Default};
  if (allow_scaling) allowed = {RopeType::Linear, RopeType::Dynamic};
  p.rope = rope_params_from_config(c, RopeRule::Legacy, dim, base, allowed, p.model_type);
}

// Rotary that ignores config.rope_scaling (the 4.44 class has no scaling support).
void plain_rope(const HFConfig& c, DecoderParams& p, int64_t dim, double base) {
  p.pos = PosKind::Rotary;
  RopeParams r;
  r.rule = RopeRule::Modern;
  r.dim = dim;
  r.base = base;
  r.max_pos = c.get_int("max_position_embeddings", 2048);
  IA_CHECK(dim > 0 && dim % 2 == 0, c.label(), ": rotary dimension ", dim, " must be a positive even number");
  p.rope = r;
}

void row_llama(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 4096);
  p.intermediate = c.get_int("intermediate_size", 11008);
  p.n_layers = c.get_int("num_hidden_layers", 32);
  int64_t heads = c.get_int("num_attention_heads", 32);
  set_heads(c, p, heads, c.get_int("num_key_value_heads", heads));
  p.norm = NormKind::RMSNorm;
  p.norm_eps = float(c.get_float("rms_norm_eps", 1e-6));
  set_act(c, p, c.get_string("hidden_act", "silu"));
  llama_style_names(p);
  // rope_utils reads head_dim / partial_rotary_factor when the config carries them.
  int64_t rope_head = c.get_int("head_dim", p.head_dim);
  int64_t dim = int64_t(double(rope_head) * c.get_float("partial_rotary_factor", 1.0));
  p.pos = PosKind::Rotary;
  p.rope = rope_params_from_config(c, RopeRule::Modern, dim, c.get_float("rope_theta", 10000.0),
                                   {RopeType::Default, RopeType::Linear, RopeType::Dynamic, RopeType::Yarn,
                                    RopeType::LongRope, RopeType::Llama3},
                                   p.model_type);
  p.tie_embeddings = c.get_bool("tie_word_embeddings", false);
}

void row_mistral(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 4096);
  p.intermediate = c.get_int("intermediate_size", 14336);
  p.n_layers = c.get_int("num_hidden_layers", 32);
  int64_t heads = c.get_int("num_attention_heads", 32);
  int64_t hd = c.get_int("head_dim", 0);
  set_heads(c, p, heads, c.get_int("num_key_value_heads", 8), hd > 0 ? hd : 0);
  p.norm_eps = float(c.get_float("rms_norm_eps", 1e-6));
  set_act(c, p, c.get_string("hidden_act", "silu"));
  llama_style_names(p);
  plain_rope(c, p, p.head_dim, c.get_float("rope_theta", 10000.0));
  int64_t sw = c.get_int("sliding_window", 0);  // null: no window
  p.window.assign(size_t(p.n_layers), sw > 0 ? sw : 0);
  p.tie_embeddings = c.get_bool("tie_word_embeddings", false);
}

void row_qwen2(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 4096);
  p.intermediate = c.get_int("intermediate_size", 22016);
  p.n_layers = c.get_int("num_hidden_layers", 32);
  int64_t heads = c.get_int("num_attention_heads", 32);
  set_heads(c, p, heads, c.get_int("num_key_value_heads", 32));
  p.norm_eps = float(c.get_float("rms_norm_eps", 1e-6));
  set_act(c, p, c.get_string("hidden_act", "silu"));
  llama_style_names(p);
  plain_rope(c, p, p.head_dim, c.get_float("rope_theta", 10000.0));
  // use_sliding_window only reaches flash-attention in 4.44; eager attention is global.
  p.tie_embeddings = c.get_bool("tie_word_embeddings", false);
}

void row_starcoder2(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 3072);
  p.intermediate = c.get_int("intermediate_size", 12288);
  p.n_layers = c.get_int("num_hidden_layers", 30);
  int64_t heads = c.get_int("num_attention_heads", 24);
  set_heads(c, p, heads, c.get_int("num_key_value_heads", 2));
  p.norm = NormKind::LayerNorm;
  p.norm_eps = float(c.get_float("norm_epsilon", 1e-5));
  set_act(c, p, c.get_string("hidden_act", "gelu_pytorch_tanh"));
  llama_style_names(p);
  p.mlp = MlpKind::Plain;
  p.gate = p.up = "";
  p.fc = "mlp.c_fc";
  p.down = "mlp.c_proj";
  plain_rope(c, p, p.head_dim, c.get_float("rope_theta", 10000.0));
  // sliding_window is only honoured by flash-attention in 4.44.
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
}

void row_phi3(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 3072);
  p.intermediate = c.get_int("intermediate_size", 8192);
  p.n_layers = c.get_int("num_hidden_layers", 32);
  int64_t heads = c.get_int("num_attention_heads", 32);
  set_heads(c, p, heads, c.get_int("num_key_value_heads", heads));
  p.norm_eps = float(c.get_float("rms_norm_eps", 1e-5));
  set_act(c, p, c.get_string("hidden_act", "silu"));
  llama_style_names(p);
  p.q = p.k = p.v = "";
  p.qkv = "self_attn.qkv_proj";
  p.qkv_layout = QKVLayout::Concat;
  p.gate = p.up = "";
  p.gate_up = "mlp.gate_up_proj";
  p.pos = PosKind::Rotary;
  p.rope = rope_params_from_config(c, RopeRule::Phi3LongRope, p.head_dim, c.get_float("rope_theta", 10000.0),
                                   {RopeType::LongRope}, p.model_type);
  if (p.rope.type == RopeType::LongRope) p.rope.original_max_pos = c.get_int("original_max_position_embeddings", 4096);
  p.tie_embeddings = c.get_bool("tie_word_embeddings", false);
}

void row_gemma(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 3072);
  p.intermediate = c.get_int("intermediate_size", 24576);
  p.n_layers = c.get_int("num_hidden_layers", 28);
  int64_t heads = c.get_int("num_attention_heads", 16);
  set_heads(c, p, heads, c.get_int("num_key_value_heads", 16), c.get_int("head_dim", 256));
  p.norm = NormKind::GemmaRMSNorm;
  p.norm_eps = float(c.get_float("rms_norm_eps", 1e-6));
  // GemmaMLP ignores hidden_act: hidden_activation, or gelu_pytorch_tanh when unset.
  set_act(c, p, c.get_string("hidden_activation", "gelu_pytorch_tanh"));
  llama_style_names(p);
  plain_rope(c, p, p.head_dim, c.get_float("rope_theta", 10000.0));
  p.embed_scale = float(std::sqrt(double(p.hidden)));
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
}

void row_gemma2(const HFConfig& c, DecoderParams& p) {
  row_gemma(c, p);
  set_act(c, p, c.get_string("hidden_activation", "gelu_pytorch_tanh"));
  p.intermediate = c.get_int("intermediate_size", 24576);
  p.attn_scale = float(1.0 / std::sqrt(c.get_float("query_pre_attn_scalar", 224)));
  p.attn_softcap = float(c.get_float("attn_logit_softcapping", 0.0));
  p.final_softcap = float(c.get_float("final_logit_softcapping", 0.0));
  int64_t sw = c.get_int("sliding_window", 4096);
  p.window.assign(size_t(p.n_layers), 0);
  for (int64_t i = 0; i < p.n_layers; i += 2) p.window[size_t(i)] = sw;  // even layers slide
  p.residual = ResidualKind::Sandwich;
  p.norm_post_attn = "post_attention_layernorm";
  p.norm2 = "";
  p.norm_pre_ff = "pre_feedforward_layernorm";
  p.norm_post_ff = "post_feedforward_layernorm";
}

void row_phi(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 2048);
  p.intermediate = c.get_int("intermediate_size", 8192);
  p.n_layers = c.get_int("num_hidden_layers", 24);
  int64_t heads = c.get_int("num_attention_heads", 32);
  set_heads(c, p, heads, c.get_int("num_key_value_heads", heads));
  p.norm = NormKind::LayerNorm;
  p.norm_eps = float(c.get_float("layer_norm_eps", 1e-5));
  set_act(c, p, c.get_string("hidden_act", "gelu_new"));
  p.base_candidates = {"model", ""};
  p.embed = "embed_tokens";
  p.layers = "layers";
  p.norm1 = "input_layernorm";
  p.q = "self_attn.q_proj";
  p.k = "self_attn.k_proj";
  p.v = "self_attn.v_proj";
  p.o = "self_attn.dense";
  if (c.get_bool("qk_layernorm", false)) {
    p.q_norm = "self_attn.q_layernorm";
    p.k_norm = "self_attn.k_layernorm";
  }
  p.mlp = MlpKind::Plain;
  p.fc = "mlp.fc1";
  p.down = "mlp.fc2";
  p.final_norm = "final_layernorm";
  p.residual = ResidualKind::Parallel;
  int64_t dim = int64_t(c.get_float("partial_rotary_factor", 0.5) * double(p.head_dim));
  legacy_rope(c, p, dim, c.get_float("rope_theta", 10000.0), true);
  p.tie_embeddings = c.get_bool("tie_word_embeddings", false);
}

void row_gpt_neox(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 6144);
  p.intermediate = c.get_int("intermediate_size", 24576);
  p.n_layers = c.get_int("num_hidden_layers", 44);
  int64_t heads = c.get_int("num_attention_heads", 64);
  set_heads(c, p, heads, heads);
  p.norm = NormKind::LayerNorm;
  p.norm_eps = float(c.get_float("layer_norm_eps", 1e-5));
  set_act(c, p, c.get_string("hidden_act", "gelu"));
  p.base_candidates = {"gpt_neox", ""};
  p.embed = "embed_in";
  p.layers = "layers";
  p.norm1 = "input_layernorm";
  p.norm2 = "post_attention_layernorm";
  p.qkv = "attention.query_key_value";
  p.qkv_layout = QKVLayout::PerHead;
  p.o = "attention.dense";
  p.mlp = MlpKind::Plain;
  p.fc = "mlp.dense_h_to_4h";
  p.down = "mlp.dense_4h_to_h";
  p.final_norm = "final_layer_norm";
  p.lm_head = "embed_out";
  p.residual = c.get_bool("use_parallel_residual", true) ? ResidualKind::Parallel : ResidualKind::Sequential;
  int64_t dim = int64_t(double(p.head_dim) * c.get_float("rotary_pct", 0.25));
  legacy_rope(c, p, dim, c.get_float("rotary_emb_base", 10000.0), true);
  p.tie_embeddings = c.get_bool("tie_word_embeddings", false);
}

void row_gptj(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("n_embd", 4096);
  p.n_layers = c.get_int("n_layer", 28);
  int64_t heads = c.get_int("n_head", 16);
  set_heads(c, p, heads, heads);
  p.intermediate = c.get_int("n_inner", 4 * p.hidden);
  p.norm = NormKind::LayerNorm;
  p.norm_eps = float(c.get_float("layer_norm_epsilon", 1e-5));
  set_act(c, p, c.get_string("activation_function", "gelu_new"));
  p.base_candidates = {"transformer", ""};
  p.embed = "wte";
  p.layers = "h";
  p.norm1 = "ln_1";
  p.q = "attn.q_proj";
  p.k = "attn.k_proj";
  p.v = "attn.v_proj";
  p.o = "attn.out_proj";
  p.mlp = MlpKind::Plain;
  p.fc = "mlp.fc_in";
  p.down = "mlp.fc_out";
  p.final_norm = "ln_f";
  p.residual = ResidualKind::Parallel;
  int64_t dim = c.get_int("rotary_dim", p.head_dim);
  p.pos = PosKind::Rotary;
  RopeParams r;
  r.rule = RopeRule::Legacy;
  r.dim = dim;
  r.base = 10000.0;
  r.interleaved = true;
  r.max_pos = c.get_int("n_positions", 2048);
  IA_CHECK(dim > 0 && dim % 2 == 0 && dim <= p.head_dim, c.label(), ": rotary_dim ", dim,
           " must be even and at most the head size ", p.head_dim);
  p.rope = r;
  p.tie_embeddings = c.get_bool("tie_word_embeddings", false);
}

void gpt2_names(DecoderParams& p) {
  p.base_candidates = {"transformer", ""};
  p.embed = "wte";
  p.pos_embed = "wpe";
  p.layers = "h";
  p.norm1 = "ln_1";
  p.norm2 = "ln_2";
  p.qkv = "attn.c_attn";
  p.qkv_layout = QKVLayout::Concat;
  p.o = "attn.c_proj";
  p.mlp = MlpKind::Plain;
  p.fc = "mlp.c_fc";
  p.down = "mlp.c_proj";
  p.final_norm = "ln_f";
  p.pos = PosKind::Learned;
  p.norm = NormKind::LayerNorm;
}

void row_gpt2(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("n_embd", 768);
  p.n_layers = c.get_int("n_layer", 12);
  int64_t heads = c.get_int("n_head", 12);
  set_heads(c, p, heads, heads);
  p.intermediate = c.get_int("n_inner", 4 * p.hidden);
  p.norm_eps = float(c.get_float("layer_norm_epsilon", 1e-5));
  set_act(c, p, c.get_string("activation_function", "gelu_new"));
  gpt2_names(p);
  p.conv1d = true;
  if (!c.get_bool("scale_attn_weights", true)) p.attn_scale = 1.f;
  if (c.get_bool("scale_attn_by_inverse_layer_idx", false)) {
    p.layer_scale.resize(size_t(p.n_layers));
    for (int64_t i = 0; i < p.n_layers; ++i) p.layer_scale[size_t(i)] = 1.f / float(i + 1);
  }
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
}

void row_gpt_bigcode(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("n_embd", 768);
  p.n_layers = c.get_int("n_layer", 12);
  int64_t heads = c.get_int("n_head", 12);
  bool mq = c.get_bool("multi_query", true);
  set_heads(c, p, heads, mq ? 1 : heads);
  p.intermediate = c.get_int("n_inner", 4 * p.hidden);
  p.norm_eps = float(c.get_float("layer_norm_epsilon", 1e-5));
  set_act(c, p, c.get_string("activation_function", "gelu_pytorch_tanh"));
  gpt2_names(p);
  p.qkv_layout = mq ? QKVLayout::Concat : QKVLayout::PerHead;
  if (!c.get_bool("scale_attn_weights", true)) p.attn_scale = 1.f;
  p.position_source = PositionSource::FromMaskFill1;
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
}

void row_gpt_neo(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 2048);
  p.n_layers = c.get_int("num_layers", 24);
  int64_t heads = c.get_int("num_heads", 16);
  set_heads(c, p, heads, heads);
  p.attn_scale = 1.f;  // GPT-Neo does not scale attention scores
  p.intermediate = c.get_int("intermediate_size", 4 * p.hidden);
  p.norm_eps = float(c.get_float("layer_norm_epsilon", 1e-5));
  set_act(c, p, c.get_string("activation_function", "gelu_new"));
  gpt2_names(p);
  p.qkv_layout = QKVLayout::Separate;
  p.qkv = "";
  p.q = "attn.attention.q_proj";
  p.k = "attn.attention.k_proj";
  p.v = "attn.attention.v_proj";
  p.o = "attn.attention.out_proj";
  // attention_types [[["global","local"], n], ...] expands to one entry per layer.
  std::vector<std::string> kinds;
  const auto& j = c.raw();
  if (j.contains("attention_types") && j["attention_types"].is_array()) {
    for (const auto& item : j["attention_types"]) {
      IA_CHECK(item.is_array() && item.size() == 2 && item[0].is_array() && item[1].is_number_integer(), c.label(),
               ": attention_types entries must be [[kinds...], repeat]");
      for (int64_t r = 0; r < item[1].get<int64_t>(); ++r)
        for (const auto& k : item[0]) kinds.push_back(k.get<std::string>());
    }
  } else if (j.contains("attention_layers") && j["attention_layers"].is_array()) {
    for (const auto& k : j["attention_layers"]) kinds.push_back(k.get<std::string>());
  } else {
    for (int64_t i = 0; i < p.n_layers; ++i) kinds.push_back(i % 2 ? "local" : "global");
  }
  IA_CHECK(int64_t(kinds.size()) == p.n_layers, c.label(), ": attention_types describe ", kinds.size(),
           " layers but num_layers is ", p.n_layers);
  int64_t ws = c.get_int("window_size", 256);
  p.window.assign(size_t(p.n_layers), 0);
  for (int64_t i = 0; i < p.n_layers; ++i) {
    const auto& k = kinds[size_t(i)];
    IA_CHECK(k == "global" || k == "local", c.label(), ": attention type '", k, "' is neither global nor local");
    if (k == "local") p.window[size_t(i)] = ws;
  }
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
}

void row_opt(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int("hidden_size", 768);
  p.n_layers = c.get_int("num_hidden_layers", 12);
  int64_t heads = c.get_int("num_attention_heads", 12);
  set_heads(c, p, heads, heads);
  p.intermediate = c.get_int("ffn_dim", 3072);
  p.embed_dim = c.get_int("word_embed_proj_dim", p.hidden);
  p.norm = NormKind::LayerNorm;
  p.norm_eps = 1e-5f;
  p.norm_affine = c.get_bool("layer_norm_elementwise_affine", true);
  set_act(c, p, c.get_string("activation_function", "relu"));
  bool before = c.get_bool("do_layer_norm_before", true);
  p.base_candidates = {"model.decoder", "decoder", ""};
  p.embed = "embed_tokens";
  p.pos_embed = "embed_positions";
  p.pos = PosKind::Learned;
  p.pos_offset = 2;
  p.position_source = PositionSource::FromMaskOpt;
  if (p.embed_dim != p.hidden) {
    p.project_in = "project_in";
    p.project_out = "project_out";
  }
  p.layers = "layers";
  p.norm1 = "self_attn_layer_norm";
  p.norm2 = "final_layer_norm";
  p.q = "self_attn.q_proj";
  p.k = "self_attn.k_proj";
  p.v = "self_attn.v_proj";
  p.o = "self_attn.out_proj";
  p.mlp = MlpKind::Plain;
  p.fc = "fc1";
  p.down = "fc2";
  if (before && !c.get_bool("_remove_final_layer_norm", false)) p.final_norm = "final_layer_norm";
  p.residual = before ? ResidualKind::Sequential : ResidualKind::PostNorm;
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
}

void row_bloom(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int_any({"hidden_size", "n_embed"}, 64);
  p.n_layers = c.get_int_any({"n_layer", "num_hidden_layers"}, 2);
  int64_t heads = c.get_int_any({"n_head", "num_attention_heads"}, 8);
  set_heads(c, p, heads, heads);
  p.intermediate = 4 * p.hidden;
  p.norm = NormKind::LayerNorm;
  p.norm_eps = float(c.get_float("layer_norm_epsilon", 1e-5));
  p.act = cpu::Act::GeluFast;  // bloom_gelu_forward: tanh approximation
  p.act_name = "bloom_gelu";
  p.base_candidates = {"transformer", ""};
  p.embed = "word_embeddings";
  p.embed_norm = "word_embeddings_layernorm";
  p.layers = "h";
  p.norm1 = "input_layernorm";
  p.norm2 = "post_attention_layernorm";
  p.qkv = "self_attention.query_key_value";
  p.qkv_layout = QKVLayout::PerHead;
  p.o = "self_attention.dense";
  p.mlp = MlpKind::Plain;
  p.fc = "mlp.dense_h_to_4h";
  p.down = "mlp.dense_4h_to_h";
  p.final_norm = "ln_f";
  p.pos = PosKind::Alibi;
  p.residual_from_normed = c.get_bool("apply_residual_connection_post_layernorm", false);
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
}

void row_falcon(const HFConfig& c, DecoderParams& p) {
  p.hidden = c.get_int_any({"hidden_size", "n_embed"}, 4544);
  p.n_layers = c.get_int_any({"num_hidden_layers", "n_layer"}, 32);
  int64_t heads = c.get_int_any({"num_attention_heads", "n_head"}, 71);
  bool new_arch = c.get_bool("new_decoder_architecture", false);
  bool mq = c.get_bool("multi_query", true);
  bool parallel = c.get_bool("parallel_attn", true);
  int64_t kv = new_arch ? c.get_int("num_kv_heads", heads) : (mq ? 1 : heads);
  set_heads(c, p, heads, kv);
  p.intermediate = c.get_int("ffn_hidden_size", 4 * p.hidden);
  p.norm = NormKind::LayerNorm;
  p.norm_eps = float(c.get_float("layer_norm_epsilon", 1e-5));
  set_act(c, p, c.get_string("activation", "gelu"));
  p.base_candidates = {"transformer", ""};
  p.embed = "word_embeddings";
  p.layers = "h";
  p.qkv = "self_attention.query_key_value";
  p.qkv_layout = new_arch ? QKVLayout::PerKVGroup : (mq ? QKVLayout::Concat : QKVLayout::PerHead);
  p.o = "self_attention.dense";
  p.mlp = MlpKind::Plain;
  p.fc = "mlp.dense_h_to_4h";
  p.down = "mlp.dense_4h_to_h";
  p.final_norm = "ln_f";
  if (new_arch) {
    IA_CHECK(parallel, c.label(), ": new_decoder_architecture with parallel_attn=false has no layer norms in 4.44");
    int64_t n_ln = c.get_int("num_ln_in_parallel_attn", 2);
    p.residual = ResidualKind::Parallel;
    if (n_ln == 2) {
      p.norm1 = "ln_attn";
      p.norm2 = "ln_mlp";
    } else {
      p.norm1 = "input_layernorm";
    }
  } else if (parallel) {
    p.residual = ResidualKind::Parallel;
    p.norm1 = "input_layernorm";
  } else {
    p.residual = ResidualKind::Sequential;
    p.norm1 = "input_layernorm";
    p.norm2 = "post_attention_layernorm";
  }
  if (c.get_bool("alibi", false)) {
    p.pos = PosKind::Alibi;
    p.alibi_scaled = true;
  } else {
    legacy_rope(c, p, p.head_dim, c.get_float("rope_theta", 10000.0), true);
  }
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
}

const std::map<std::string, Row>& rows() {
  static const std::map<std::string, Row> r = {
      {"gpt2", row_gpt2},       {"gpt_neo", row_gpt_neo}, {"gptj", row_gptj},       {"gpt_neox", row_gpt_neox},
      {"gpt_bigcode", row_gpt_bigcode}, {"opt", row_opt}, {"bloom", row_bloom},   {"falcon", row_falcon},
      {"llama", row_llama},     {"mistral", row_mistral}, {"qwen2", row_qwen2},     {"phi", row_phi},
      {"phi3", row_phi3},       {"gemma", row_gemma},     {"gemma2", row_gemma2},   {"starcoder2", row_starcoder2}};
  return r;
}

}  // namespace

const std::vector<std::string>& decoder_model_types() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> out;
    for (const auto& [k, _] : rows()) out.push_back(k);
    return out;
  }();
  return v;
}

DecoderParams decoder_params_from_config(const ModelContext& ctx) {
  auto it = rows().find(ctx.model_type);
  const DecoderRow* row = it != rows().end() ? &it->second : find_moe_row(ctx.model_type);  // templates/moe
  if (!row) throw Unsupported(cat(ctx.config.label(), ": model_type '", ctx.model_type, "' is not a decoder-only type"));
  const HFConfig& c = ctx.config;
  DecoderParams p;
  p.model_type = ctx.model_type;
  p.vocab = c.get_int("vocab_size");
  IA_CHECK(p.vocab > 0, c.label(), ": vocab_size must be positive");
  (*row)(c, p);
  IA_CHECK(p.n_layers >= 0, c.label(), ": number of layers must not be negative");
  positive(c, p.hidden, "hidden size");
  positive(c, p.intermediate, "intermediate size");
  if (p.embed_dim == 0) p.embed_dim = p.hidden;
  if (p.window.empty()) p.window.assign(size_t(p.n_layers), 0);
  if (p.pos == PosKind::Rotary)
    IA_CHECK(p.rope.dim <= p.head_dim, c.label(), ": rotary dimension ", p.rope.dim, " exceeds the head size ", p.head_dim);

  // EOS / pad as generate() resolves them: generation_config.json when present, else config.json.
  const HFConfig& g = ctx.generation_config ? *ctx.generation_config : c;
  p.eos_ids = g.get_int_list("eos_token_id");
  if (g.has("pad_token_id")) p.pad_id = g.get_int("pad_token_id");
  if (p.model_type == "gemma2") {
    // generate() picks the cache from generation_config.cache_implementation (Gemma2Config: "hybrid").
    std::string impl = ctx.generation_config ? g.get_string("cache_implementation", "")
                       : c.raw().contains("cache_implementation") ? c.get_string("cache_implementation", "")
                                                                  : "hybrid";
    p.hybrid_cache = impl == "hybrid";
    p.decode_ignores_window = !p.hybrid_cache;
  }
  return p;
}

const char* norm_kind_name(NormKind k) {
  switch (k) {
    case NormKind::LayerNorm: return "layer_norm";
    case NormKind::RMSNorm: return "rms_norm";
    case NormKind::GemmaRMSNorm: return "rms_norm_1p";
  }
  return "?";
}
const char* pos_kind_name(PosKind k) {
  switch (k) {
    case PosKind::None: return "none";
    case PosKind::Learned: return "learned";
    case PosKind::Rotary: return "rotary";
    case PosKind::Alibi: return "alibi";
  }
  return "?";
}
const char* qkv_layout_name(QKVLayout l) {
  switch (l) {
    case QKVLayout::Separate: return "separate";
    case QKVLayout::Concat: return "fused_concat";
    case QKVLayout::PerHead: return "fused_per_head";
    case QKVLayout::PerKVGroup: return "fused_per_kv_group";
  }
  return "?";
}
const char* residual_kind_name(ResidualKind r) {
  switch (r) {
    case ResidualKind::Sequential: return "sequential";
    case ResidualKind::Parallel: return "parallel";
    case ResidualKind::PostNorm: return "post_norm";
    case ResidualKind::Sandwich: return "sandwich";
  }
  return "?";
}

}  // namespace ia
