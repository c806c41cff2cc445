// Benchmark presets of the mixture-of-experts and state-space families:
// a Mixtral-shaped MoE of about 1B parameters (8 experts, top-2) and the
// shapes of state-spaces/mamba-130m-hf and RWKV/rwkv-4-169m-pile.
#include "bench/presets_moe_ssm.h"

namespace ia::bench {

namespace {

void add(std::vector<TensorSpec>& t, const std::string& name, Shape shape, Init init = Init::Normal) {
  t.push_back({name, std::move(shape), init});
}

}  // namespace

Preset mixtral_preset(const std::string& name, const std::string& desc, const MixtralDims& d) {
  Preset p;
  p.name = name;
  p.description = desc;
  p.config = {{"architectures", {"MixtralForCausalLM"}},
              {"attention_dropout", 0.0},
              {"bos_token_id", 1},
              {"eos_token_id", 2},
              {"hidden_act", "silu"},
              {"hidden_size", d.hidden},
              {"initializer_range", 0.02},
              {"intermediate_size", d.intermediate},
              {"max_position_embeddings", d.max_positions},
              {"model_type", "mixtral"},
              {"num_attention_heads", d.heads},
              {"num_experts_per_tok", d.top_k},
              {"num_hidden_layers", d.layers},
              {"num_key_value_heads", d.kv_heads},
              {"num_local_experts", d.experts},
              {"output_router_logits", false},
              {"rms_norm_eps", 1e-05},
              {"rope_theta", 1000000.0},
              {"router_aux_loss_coef", 0.02},
              {"router_jitter_noise", 0.0},
              {"sliding_window", nullptr},
              {"tie_word_embeddings", false},
              {"use_cache", true},
              {"vocab_size", d.vocab}};
  p.generation_config = {{"bos_token_id", 1}, {"eos_token_id", 2}};
  const int64_t hd = d.hidden / d.heads;
  auto& t = p.tensors;
  add(t, "model.embed_tokens.weight", {d.vocab, d.hidden});
  for (int64_t i = 0; i < d.layers; ++i) {
    const std::string l = "model.layers." + std::to_string(i);
    add(t, l + ".input_layernorm.weight", {d.hidden}, Init::Ones);
    add(t, l + ".self_attn.q_proj.weight", {d.heads * hd, d.hidden});
    add(t, l + ".self_attn.k_proj.weight", {d.kv_heads * hd, d.hidden});
    add(t, l + ".self_attn.v_proj.weight", {d.kv_heads * hd, d.hidden});
    add(t, l + ".self_attn.o_proj.weight", {d.hidden, d.heads * hd});
    add(t, l + ".post_attention_layernorm.weight", {d.hidden}, Init::Ones);
    add(t, l + ".block_sparse_moe.gate.weight", {d.experts, d.hidden});
    for (int64_t e = 0; e < d.experts; ++e) {
      const std::string x = l + ".block_sparse_moe.experts." + std::to_string(e);
      add(t, x + ".w1.weight", {d.intermediate, d.hidden});
      add(t, x + ".w2.weight", {d.hidden, d.intermediate});
      add(t, x + ".w3.weight", {d.intermediate, d.hidden});
    }
  }
  add(t, "model.norm.weight", {d.hidden}, Init::Ones);
  add(t, "lm_head.weight", {d.vocab, d.hidden});
  return p;
}

Preset mamba_preset(const std::string& name, const std::string& desc, int64_t hidden, int64_t layers, int64_t vocab,
                    int64_t state) {
  const int64_t inter = 2 * hidden, rank = (hidden + 15) / 16, K = 4;
  Preset p;
  p.name = name;
  p.description = desc;
  p.config = {{"architectures", {"MambaForCausalLM"}},
              {"bos_token_id", 0},
              {"conv_kernel", K},
              {"eos_token_id", 0},
              {"expand", 2},
              {"hidden_act", "silu"},
              {"hidden_size", hidden},
              {"initializer_range", 0.1},
              {"intermediate_size", inter},
              {"layer_norm_epsilon", 1e-05},
              {"model_type", "mamba"},
              {"num_hidden_layers", layers},
              {"pad_token_id", 0},
              {"residual_in_fp32", true},
              {"state_size", state},
              {"time_step_rank", rank},
              {"use_bias", false},
              {"use_cache", true},
              {"use_conv_bias", true},
              {"vocab_size", vocab}};
  p.generation_config = {{"bos_token_id", 0}, {"eos_token_id", 0}, {"pad_token_id", 0}};
  auto& t = p.tensors;
  add(t, "backbone.embeddings.weight", {vocab, hidden});  // tied to the LM head
  for (int64_t i = 0; i < layers; ++i) {
    const std::string l = "backbone.layers." + std::to_string(i);
    add(t, l + ".norm.weight", {hidden}, Init::Ones);
    add(t, l + ".mixer.A_log", {inter, state});
    add(t, l + ".mixer.D", {inter}, Init::Ones);
    add(t, l + ".mixer.conv1d.weight", {inter, 1, K});
    add(t, l + ".mixer.conv1d.bias", {inter}, Init::Zeros);
    add(t, l + ".mixer.in_proj.weight", {2 * inter, hidden});
    add(t, l + ".mixer.x_proj.weight", {rank + 2 * state, inter});
    add(t, l + ".mixer.dt_proj.weight", {inter, rank});
    add(t, l + ".mixer.dt_proj.bias", {inter}, Init::Zeros);
    add(t, l + ".mixer.out_proj.weight", {hidden, inter});
  }
  add(t, "backbone.norm_f.weight", {hidden}, Init::Ones);
  return p;
}

Preset rwkv_preset(const std::string& name, const std::string& desc, int64_t hidden, int64_t layers, int64_t vocab,
                   int64_t context) {
  const int64_t inter = 4 * hidden;
  Preset p;
  p.name = name;
  p.description = desc;
  p.config = {{"architectures", {"RwkvForCausalLM"}},
              {"attention_hidden_size", hidden},
              {"bos_token_id", 0},
              {"context_length", context},
              {"eos_token_id", 0},
              {"hidden_size", hidden},
              {"intermediate_size", inter},
              {"layer_norm_epsilon", 1e-05},
              {"model_type", "rwkv"},
              {"num_hidden_layers", layers},
              {"rescale_every", 6},
              {"tie_word_embeddings", false},
              {"use_cache", true},
              {"vocab_size", vocab}};
  p.generation_config = {{"bos_token_id", 0}, {"eos_token_id", 0}};
  auto& t = p.tensors;
  auto ln = [&](const std::string& n) {
    add(t, n + ".weight", {hidden}, Init::Ones);
    add(t, n + ".bias", {hidden}, Init::Zeros);
  };
  add(t, "rwkv.embeddings.weight", {vocab, hidden});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string b = "rwkv.blocks." + std::to_string(i);
    if (i == 0) ln(b + ".pre_ln");
    ln(b + ".ln1");
    ln(b + ".ln2");
    const std::string a = b + ".attention", f = b + ".feed_forward";
    add(t, a + ".time_decay", {hidden});
    add(t, a + ".time_first", {hidden});
    for (const char* m : {".time_mix_key", ".time_mix_value", ".time_mix_receptance"}) add(t, a + m, {1, 1, hidden});
    for (const char* m : {".key.weight", ".value.weight", ".receptance.weight"}) add(t, a + m, {hidden, hidden});
    add(t, a + ".output.weight", {hidden, hidden});
    add(t, f + ".time_mix_key", {1, 1, hidden});
    add(t, f + ".time_mix_receptance", {1, 1, hidden});
    add(t, f + ".key.weight", {inter, hidden});
    add(t, f + ".receptance.weight", {hidden, hidden});
    add(t, f + ".value.weight", {hidden, inter});
  }
  ln("rwkv.ln_out");
  add(t, "head.weight", {vocab, hidden});
  return p;
}

}  // namespace ia::bench
