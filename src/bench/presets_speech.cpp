// WhisperForConditionalGeneration presets (openai/whisper-tiny.en / base.en shapes)
// for `make-checkpoint`, named as save_pretrained writes them (proj_out tied).
#include <string>

#include "bench/presets.h"

namespace ia::bench {

Preset whisper_preset(const std::string& name, const std::string& desc, int64_t d, int64_t layers, int64_t heads,
                      int64_t ffn, int64_t mel, int64_t vocab, int64_t max_source, int64_t max_target) {
  Preset p;
  p.name = name;
  p.description = desc;
  p.config = {{"architectures", {"WhisperForConditionalGeneration"}},
              {"activation_function", "gelu"},
              {"begin_suppress_tokens", {220, 50256}},
              {"bos_token_id", 50256},
              {"d_model", d},
              {"decoder_attention_heads", heads},
              {"decoder_ffn_dim", ffn},
              {"decoder_layers", layers},
              {"decoder_start_token_id", 50257},
              {"encoder_attention_heads", heads},
              {"encoder_ffn_dim", ffn},
              {"encoder_layers", layers},
              {"eos_token_id", 50256},
              {"max_source_positions", max_source},
              {"max_target_positions", max_target},
              {"model_type", "whisper"},
              {"num_hidden_layers", layers},
              {"num_mel_bins", mel},
              {"pad_token_id", 50256},
              {"scale_embedding", false},
              {"vocab_size", vocab}};
  p.generation_config = {{"begin_suppress_tokens", {220, 50256}},
                         {"bos_token_id", 50256},
                         {"decoder_start_token_id", 50257},
                         {"eos_token_id", 50256},
                         {"is_multilingual", false},
                         {"max_length", max_target},
                         {"no_timestamps_token_id", vocab - 2},
                         {"pad_token_id", 50256}};
  auto& t = p.tensors;
  auto dense = [&](const std::string& n, int64_t out, int64_t in, bool bias = true) {
    t.push_back({n + ".weight", {out, in}});
    if (bias) t.push_back({n + ".bias", {out}, Init::Zeros});
  };
  auto norm = [&](const std::string& n) {
    t.push_back({n + ".weight", {d}, Init::Ones});
    t.push_back({n + ".bias", {d}, Init::Zeros});
  };
  auto attn = [&](const std::string& n) {
    dense(n + ".q_proj", d, d);
    dense(n + ".k_proj", d, d, false);
    dense(n + ".v_proj", d, d);
    dense(n + ".out_proj", d, d);
  };
  t.push_back({"model.encoder.conv1.weight", {d, mel, 3}});
  t.push_back({"model.encoder.conv1.bias", {d}, Init::Zeros});
  t.push_back({"model.encoder.conv2.weight", {d, d, 3}});
  t.push_back({"model.encoder.conv2.bias", {d}, Init::Zeros});
  t.push_back({"model.encoder.embed_positions.weight", {max_source, d}});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string l = "model.encoder.layers." + std::to_string(i);
    attn(l + ".self_attn");
    norm(l + ".self_attn_layer_norm");
    dense(l + ".fc1", ffn, d);
    dense(l + ".fc2", d, ffn);
    norm(l + ".final_layer_norm");
  }
  norm("model.encoder.layer_norm");
  t.push_back({"model.decoder.embed_tokens.weight", {vocab, d}});
  t.push_back({"model.decoder.embed_positions.weight", {max_target, d}});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string l = "model.decoder.layers." + std::to_string(i);
    attn(l + ".self_attn");
    norm(l + ".self_attn_layer_norm");
    attn(l + ".encoder_attn");
    norm(l + ".encoder_attn_layer_norm");
    dense(l + ".fc1", ffn, d);
    dense(l + ".fc2", d, ffn);
    norm(l + ".final_layer_norm");
  }
  norm("model.decoder.layer_norm");
  return p;
}

}  // namespace ia::bench
