// config.json -> DecoderParams for mixtral and qwen2_moe, with the defaults of
// their transformers 4.44.2 config classes.
#include "templates/moe/moe_rows.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "formats/hf_config.h"

namespace ia {

namespace {

int64_t positive(const HFConfig& c, int64_t v, const char* what) {
  IA_CHECK(v > 0, c.label(), ": ", what, " must be positive, got ", v);
  return v;
}

// Shared by both types: llama-style attention with head_dim = hidden / heads (4.44
// ignores config.head_dim here), RMSNorm, rotary without scaling support.
void common(const HFConfig& c, DecoderParams& p, int64_t hidden, int64_t inter, int64_t layers, int64_t heads,
            int64_t kv_heads, double eps, double theta) {
  p.hidden = c.get_int("hidden_size", hidden);
  p.intermediate = c.get_int("intermediate_size", inter);
  p.n_layers = c.get_int("num_hidden_layers", layers);
  int64_t h = c.get_int("num_attention_heads", heads);
  p.n_heads = positive(c, h, "num_attention_heads");
  p.n_kv_heads = positive(c, c.get_int("num_key_value_heads", kv_heads), "num_key_value_heads");
  IA_CHECK(p.n_heads % p.n_kv_heads == 0, c.label(), ": num_attention_heads (", p.n_heads,
           ") must be a multiple of num_key_value_heads (", p.n_kv_heads, ")");
  IA_CHECK(p.hidden % p.n_heads == 0, c.label(), ": hidden_size ", p.hidden, " is not divisible by num_attention_heads ",
           p.n_heads);
  p.head_dim = p.hidden / p.n_heads;
  p.attn_scale = float(1.0 / std::sqrt(double(p.head_dim)));
  p.norm = NormKind::RMSNorm;
  p.norm_eps = float(c.get_float("rms_norm_eps", eps));
  p.act_name = c.get_string("hidden_act", "silu");
  p.act = cpu::act_from_name(p.act_name, c.label());
  p.mlp = MlpKind::Gated;

  llama_style_names(p);

  p.pos = PosKind::Rotary;
  RopeParams r;
  r.rule = RopeRule::Modern;
  r.dim = p.head_dim;
  r.base = c.get_float("rope_theta", theta);
  r.max_pos = c.get_int("max_position_embeddings", 2048);
  IA_CHECK(r.dim > 0 && r.dim % 2 == 0, c.label(), ": head size ", r.dim, " must be a positive even number for rotary");
  p.rope = r;
  // Eager attention in 4.44 never applies config.sliding_window for these types
  // (only the flash-attention path slices), so every layer attends globally.
  p.window.assign(size_t(std::max<int64_t>(p.n_layers, 0)), 0);
  p.tie_embeddings = c.get_bool("tie_word_embeddings", false);
}

void row_mixtral(const HFConfig& c, DecoderParams& p) {
  common(c, p, 4096, 14336, 32, 32, 8, 1e-5, 1e6);
  MoeParams& m = p.moe;
  m.n_experts = positive(c, c.get_int("num_local_experts", 8), "num_local_experts");
  m.top_k = c.get_int("num_experts_per_tok", 2);
  IA_CHECK(m.top_k >= 1 && m.top_k <= m.n_experts, c.label(), ": num_experts_per_tok (", m.top_k,
           ") must be between 1 and num_local_experts (", m.n_experts, ")");
  m.expert_intermediate = p.intermediate;
  m.norm_topk = true;  // MixtralSparseMoeBlock always renormalises the top-k weights
  m.sparse_layer.assign(size_t(std::max<int64_t>(p.n_layers, 0)), true);
  m.block = "block_sparse_moe";
  m.e_gate = "w1";
  m.e_up = "w3";
  m.e_down = "w2";
}

void row_qwen2_moe(const HFConfig& c, DecoderParams& p) {
  common(c, p, 2048, 5632, 24, 16, 16, 1e-6, 10000.0);
  MoeParams& m = p.moe;
  int64_t experts = c.get_int("num_experts", 60);
  IA_CHECK(experts >= 0, c.label(), ": num_experts must not be negative, got ", experts);
  int64_t step = c.get_int("decoder_sparse_step", 1);
  std::vector<int64_t> mlp_only = c.get_int_list("mlp_only_layers");  // null -> []
  m.sparse_layer.assign(size_t(std::max<int64_t>(p.n_layers, 0)), false);
  for (int64_t i = 0; i < p.n_layers; ++i) {
    bool dense = std::find(mlp_only.begin(), mlp_only.end(), i) != mlp_only.end();
    if (!dense && experts > 0) {
      IA_CHECK(step > 0, c.label(), ": decoder_sparse_step must be positive, got ", step);
      m.sparse_layer[size_t(i)] = (i + 1) % step == 0;
    }
  }
  if (std::none_of(m.sparse_layer.begin(), m.sparse_layer.end(), [](bool b) { return b; })) return;  // all dense
  m.n_experts = experts;
  m.top_k = c.get_int("num_experts_per_tok", 4);
  IA_CHECK(m.top_k >= 1 && m.top_k <= m.n_experts, c.label(), ": num_experts_per_tok (", m.top_k,
           ") must be between 1 and num_experts (", m.n_experts, ")");
  m.expert_intermediate = positive(c, c.get_int("moe_intermediate_size", 1408), "moe_intermediate_size");
  m.norm_topk = c.get_bool("norm_topk_prob", false);
  // A zero-width shared expert contributes nothing, exactly like no shared expert.
  m.shared_intermediate = c.get_int("shared_expert_intermediate_size", 5632);
  IA_CHECK(m.shared_intermediate >= 0, c.label(), ": shared_expert_intermediate_size must not be negative");
  m.block = "mlp";
  m.e_gate = "gate_proj";
  m.e_up = "up_proj";
  m.e_down = "down_proj";
}

const std::map<std::string, DecoderRow>& moe_rows() {
  static const std::map<std::string, DecoderRow> r = {{"mixtral", row_mixtral}, {"qwen2_moe", row_qwen2_moe}};
  return r;
}

}  // namespace

const DecoderRow* find_moe_row(const std::string& model_type) {
  auto it = moe_rows().find(model_type);
  return it == moe_rows().end() ? nullptr : &it->second;
}

const std::vector<std::string>& moe_model_types() {
  static const std::vector<std::string> v = {"mixtral", "qwen2_moe"};
  return v;
}

}  // namespace ia
