#include "bench/presets.h"

#include <functional>
#include <map>

#include "core/error.h"

namespace ia::bench {

using json = nlohmann::json;

namespace {

void add(std::vector<TensorSpec>& t, const std::string& name, Shape shape, Init init = Init::Normal) {
  t.push_back({name, std::move(shape), init});
}
void add_norm(std::vector<TensorSpec>& t, const std::string& prefix, int64_t n, bool bias) {
  add(t, prefix + ".weight", {n}, Init::Ones);
  if (bias) add(t, prefix + ".bias", {n}, Init::Zeros);
}

// GPT2LMHeadModel as save_pretrained writes it: Conv1D weights are [in, out],
// lm_head is tied to transformer.wte and therefore not stored.
Preset gpt2(const std::string& name, const std::string& desc, int64_t n_embd, int64_t n_layer, int64_t n_head,
            int64_t vocab, int64_t n_positions) {
  Preset p;
  p.name = name;
  p.description = desc;
  p.config = {{"activation_function", "gelu_new"},
              {"architectures", {"GPT2LMHeadModel"}},
              {"attn_pdrop", 0.1},
              {"bos_token_id", vocab - 1},
              {"embd_pdrop", 0.1},
              {"eos_token_id", vocab - 1},
              {"initializer_range", 0.02},
              {"layer_norm_epsilon", 1e-05},
              {"model_type", "gpt2"},
              {"n_ctx", n_positions},
              {"n_embd", n_embd},
              {"n_head", n_head},
              {"n_layer", n_layer},
              {"n_positions", n_positions},
              {"resid_pdrop", 0.1},
              {"summary_activation", nullptr},
              {"summary_first_dropout", 0.1},
              {"summary_proj_to_labels", true},
              {"summary_type", "cls_index"},
              {"summary_use_proj", true},
              {"task_specific_params", {{"text-generation", {{"do_sample", true}, {"max_length", 50}}}}},
              {"vocab_size", vocab}};
  p.generation_config = {{"bos_token_id", vocab - 1}, {"eos_token_id", vocab - 1}};
  auto& t = p.tensors;
  add(t, "transformer.wte.weight", {vocab, n_embd});
  add(t, "transformer.wpe.weight", {n_positions, n_embd});
  for (int64_t i = 0; i < n_layer; ++i) {
    const std::string h = "transformer.h." + std::to_string(i);
    add_norm(t, h + ".ln_1", n_embd, true);
    add(t, h + ".attn.c_attn.weight", {n_embd, 3 * n_embd});
    add(t, h + ".attn.c_attn.bias", {3 * n_embd});
    add(t, h + ".attn.c_proj.weight", {n_embd, n_embd});
    add(t, h + ".attn.c_proj.bias", {n_embd});
    add_norm(t, h + ".ln_2", n_embd, true);
    add(t, h + ".mlp.c_fc.weight", {n_embd, 4 * n_embd});
    add(t, h + ".mlp.c_fc.bias", {4 * n_embd});
    add(t, h + ".mlp.c_proj.weight", {4 * n_embd, n_embd});
    add(t, h + ".mlp.c_proj.bias", {n_embd});
  }
  add_norm(t, "transformer.ln_f", n_embd, true);
  return p;
}

struct LlamaDims {
  int64_t hidden, intermediate, layers, heads, kv_heads, vocab, max_positions;
  bool tie;
};

// LlamaForCausalLM (TinyLlama-style config); lm_head stored unless tied.
Preset llama(const std::string& name, const std::string& desc, const LlamaDims& d) {
  Preset p;
  p.name = name;
  p.description = desc;
  p.config = {{"architectures", {"LlamaForCausalLM"}},
              {"attention_bias", false},
              {"attention_dropout", 0.0},
              {"bos_token_id", 1},
              {"eos_token_id", 2},
              {"hidden_act", "silu"},
              {"hidden_size", d.hidden},
              {"initializer_range", 0.02},
              {"intermediate_size", d.intermediate},
              {"max_position_embeddings", d.max_positions},
              {"mlp_bias", false},
              {"model_type", "llama"},
              {"num_attention_heads", d.heads},
              {"num_hidden_layers", d.layers},
              {"num_key_value_heads", d.kv_heads},
              {"pretraining_tp", 1},
              {"rms_norm_eps", 1e-05},
              {"rope_scaling", nullptr},
              {"rope_theta", 10000.0},
              {"tie_word_embeddings", d.tie},
              {"use_cache", true},
              {"vocab_size", d.vocab}};
  p.generation_config = {{"bos_token_id", 1}, {"eos_token_id", 2}, {"max_length", d.max_positions}, {"pad_token_id", 0}};
  const int64_t head_dim = d.hidden / d.heads;
  auto& t = p.tensors;
  add(t, "model.embed_tokens.weight", {d.vocab, d.hidden});
  for (int64_t i = 0; i < d.layers; ++i) {
    const std::string l = "model.layers." + std::to_string(i);
    add_norm(t, l + ".input_layernorm", d.hidden, false);
    add(t, l + ".self_attn.q_proj.weight", {d.heads * head_dim, d.hidden});
    add(t, l + ".self_attn.k_proj.weight", {d.kv_heads * head_dim, d.hidden});
    add(t, l + ".self_attn.v_proj.weight", {d.kv_heads * head_dim, d.hidden});
    add(t, l + ".self_attn.o_proj.weight", {d.hidden, d.heads * head_dim});
    add_norm(t, l + ".post_attention_layernorm", d.hidden, false);
    add(t, l + ".mlp.gate_proj.weight", {d.intermediate, d.hidden});
    add(t, l + ".mlp.up_proj.weight", {d.intermediate, d.hidden});
    add(t, l + ".mlp.down_proj.weight", {d.hidden, d.intermediate});
  }
  add_norm(t, "model.norm", d.hidden, false);
  if (!d.tie) add(t, "lm_head.weight", {d.vocab, d.hidden});
  return p;
}

// BertForMaskedLM (bert-base-uncased config); the decoder weight/bias are tied
// to the word embeddings / cls.predictions.bias and therefore not stored.
Preset bert(const std::string& name, const std::string& desc, int64_t hidden, int64_t layers, int64_t heads,
            int64_t intermediate, int64_t vocab, int64_t max_positions) {
  Preset p;
  p.name = name;
  p.description = desc;
  p.config = {{"architectures", {"BertForMaskedLM"}},
              {"attention_probs_dropout_prob", 0.1},
              {"gradient_checkpointing", false},
              {"hidden_act", "gelu"},
              {"hidden_dropout_prob", 0.1},
              {"hidden_size", hidden},
              {"initializer_range", 0.02},
              {"intermediate_size", intermediate},
              {"layer_norm_eps", 1e-12},
              {"max_position_embeddings", max_positions},
              {"model_type", "bert"},
              {"num_attention_heads", heads},
              {"num_hidden_layers", layers},
              {"pad_token_id", 0},
              {"position_embedding_type", "absolute"},
              {"type_vocab_size", 2},
              {"use_cache", true},
              {"vocab_size", vocab}};
  p.generation_config = nullptr;
  auto& t = p.tensors;
  add(t, "bert.embeddings.word_embeddings.weight", {vocab, hidden});
  add(t, "bert.embeddings.position_embeddings.weight", {max_positions, hidden});
  add(t, "bert.embeddings.token_type_embeddings.weight", {2, hidden});
  add_norm(t, "bert.embeddings.LayerNorm", hidden, true);
  for (int64_t i = 0; i < layers; ++i) {
    const std::string l = "bert.encoder.layer." + std::to_string(i);
    for (const char* qkv : {"query", "key", "value"}) {
      add(t, l + ".attention.self." + qkv + ".weight", {hidden, hidden});
      add(t, l + ".attention.self." + qkv + ".bias", {hidden});
    }
    add(t, l + ".attention.output.dense.weight", {hidden, hidden});
    add(t, l + ".attention.output.dense.bias", {hidden});
    add_norm(t, l + ".attention.output.LayerNorm", hidden, true);
    add(t, l + ".intermediate.dense.weight", {intermediate, hidden});
    add(t, l + ".intermediate.dense.bias", {intermediate});
    add(t, l + ".output.dense.weight", {hidden, intermediate});
    add(t, l + ".output.dense.bias", {hidden});
    add_norm(t, l + ".output.LayerNorm", hidden, true);
  }
  add(t, "cls.predictions.bias", {vocab}, Init::Zeros);
  add(t, "cls.predictions.transform.dense.weight", {hidden, hidden});
  add(t, "cls.predictions.transform.dense.bias", {hidden});
  add_norm(t, "cls.predictions.transform.LayerNorm", hidden, true);
  return p;
}

const std::vector<std::pair<std::string, std::function<Preset()>>>& table() {
  static const std::vector<std::pair<std::string, std::function<Preset()>>> t = {
      {"gpt2-124m", [] { return gpt2("gpt2-124m", "GPT-2 small (openai-community/gpt2), 124M", 768, 12, 12, 50257, 1024); }},
      {"gpt2-medium-355m",
       [] { return gpt2("gpt2-medium-355m", "GPT-2 medium (openai-community/gpt2-medium), 355M", 1024, 24, 16, 50257, 1024); }},
      {"tinyllama-1.1b",
       [] {
         return llama("tinyllama-1.1b", "TinyLlama-1.1B (LlamaForCausalLM, 22 layers, GQA 32/4)",
                      {2048, 5632, 22, 32, 4, 32000, 2048, false});
       }},
      {"bert-base", [] { return bert("bert-base", "BERT-base-uncased (BertForMaskedLM), 110M", 768, 12, 12, 3072, 30522, 512); }},
      {"bert-large",
       [] { return bert("bert-large", "BERT-large-uncased (BertForMaskedLM), 335M", 1024, 24, 16, 4096, 30522, 512); }},
      {"vit-base-16",
       [] { return vit_preset("vit-base-16", "ViT-B/16 224px (ViTForImageClassification), 86M", 768, 12, 12, 3072, 224, 16, 1000); }},
      // Tiny shapes of the same classes, for tests (seconds to make and run).
      {"tiny-gpt2-test", [] { return gpt2("tiny-gpt2-test", "tiny GPT-2 for tests", 64, 2, 4, 256, 128); }},
      {"tiny-llama-test",
       [] { return llama("tiny-llama-test", "tiny LLaMA (GQA 4/2) for tests", {64, 160, 2, 4, 2, 256, 128, false}); }},
      {"tiny-bert-test", [] { return bert("tiny-bert-test", "tiny BERT for tests", 64, 2, 4, 128, 256, 128); }},
      {"tiny-vit-test", [] { return vit_preset("tiny-vit-test", "tiny ViT for tests", 64, 2, 4, 128, 32, 8, 10); }},
  };
  return t;
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> r;
  for (const auto& [n, f] : table()) r.push_back(n);
  return r;
}

Preset find_preset(const std::string& name) {
  std::string list;
  for (const auto& [n, f] : table()) {
    if (n == name) return f();
    list += (list.empty() ? "" : ", ") + n;
  }
  throw Error(cat("make-checkpoint: unknown preset '", name, "'; known presets: ", list));
}

}  // namespace ia::bench
