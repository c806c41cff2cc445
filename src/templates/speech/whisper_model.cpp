// Whisper: the encoder-decoder parameter row, loading, forward() and describe().
#include "templates/speech/whisper_model.h"

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

// WhisperConfig defaults (transformers 4.44.2) for keys config.json may omit.
EncDecParams whisper_params(const ModelContext& ctx) {
  const HFConfig& c = ctx.config;
  EncDecParams p;
  p.model_type = ctx.model_type;
  p.architecture = ctx.architecture;
  const std::string& a = ctx.architecture;
  if (a.empty() || a == "WhisperForConditionalGeneration") p.head = EncDecHead::ConditionalGeneration;
  else if (a == "WhisperModel") p.head = EncDecHead::BaseModel;
  else
    throw Unsupported(cat(c.label(), ": architecture '", a,
                          "' is not implemented (supported: WhisperForConditionalGeneration, WhisperModel)"));
  p.vocab = positive(c, "vocab_size", 51865);
  p.d_model = positive(c, "d_model", 384);
  auto stack = [&](const char* layers, const char* heads, const char* ffn) {
    EncDecStack s;
    s.layers = positive(c, layers, 4);
    s.heads = positive(c, heads, 6);
    s.ffn_dim = positive(c, ffn, 1536);
    IA_CHECK(p.d_model % s.heads == 0, c.label(), ": d_model ", p.d_model, " is not divisible by ", heads, " (",
             s.heads, ")");
    s.head_dim = p.d_model / s.heads;
    return s;
  };
  p.enc = stack("encoder_layers", "encoder_attention_heads", "encoder_ffn_dim");
  p.dec = stack("decoder_layers", "decoder_attention_heads", "decoder_ffn_dim");
  p.external_encoder = true;
  p.norm = EncDecNorm::LayerNorm;
  p.norm_eps = 1e-5f;
  p.pre_norm = true;
  p.final_norm = true;
  p.embed_norm = false;
  p.attn_bias = true;
  p.attn_k_bias = false;
  p.ffn_bias = true;
  p.scale_queries = true;
  p.gated_ffn = false;
  p.act_name = c.get_string("activation_function", "gelu");
  p.act = cpu::act_from_name(p.act_name, c.label());
  p.pos = EncDecPos::Learned;
  p.pos_offset = 0;
  p.max_positions = positive(c, "max_target_positions", 448);
  // WhisperConfig stores scale_embedding, but WhisperEncoder/WhisperDecoder never apply embed_scale.
  p.embed_scale = 1.f;
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
  p.final_logits_bias = false;
  p.pad_id = c.has("pad_token_id") ? c.get_int("pad_token_id") : 50256;
  p.eos_ids = c.raw().contains("eos_token_id") ? c.get_int_list("eos_token_id") : std::vector<int64_t>{50256};
  p.decoder_start_id = c.has("decoder_start_token_id") ? c.get_int("decoder_start_token_id") : 50257;
  p.generation_defaults = {{"pad_token_id", 50256},
                           {"bos_token_id", 50256},
                           {"eos_token_id", 50256},
                           {"decoder_start_token_id", 50257}};
  set_bart_weight_names(p);
  p.shared = "decoder.embed_tokens";
  p.final_norm_name = "layer_norm";
  p.lm_head = "proj_out";
  return p;
}

}  // namespace

WhisperModel::WhisperModel(const ModelContext& ctx) : EncDecModel(ctx, whisper_params(ctx)) {
  const HFConfig& c = ctx.config;
  geo_.mel_bins = positive(c, "num_mel_bins", 80);
  geo_.d_model = p_.d_model;
  geo_.layers = p_.enc.layers;
  geo_.heads = p_.enc.heads;
  geo_.ffn_dim = p_.enc.ffn_dim;
  geo_.max_source_positions = positive(c, "max_source_positions", 1500);
  geo_.act = p_.act;
  Weights root(ctx.checkpoint);
  Weights base = resolve_base(root, {"model", ""}, "encoder.conv1.weight");
  encoder_ = WhisperEncoder::load(base.pp("encoder"), geo_);
  prompt_ = whisper_prompt_config(ctx, p_.vocab, p_.max_positions);
}

void WhisperModel::encode_audio(const Tensor& features) {
  encoder_.forward(features, audio_states_);
  set_encoder_output(audio_states_.data(), nullptr, features.dim(0), encoder_.output_frames());
}

TensorMap WhisperModel::forward(const TensorMap& in) {
  const std::string& who = p_.model_type;
  const Tensor& features = require_input(in, "input_features", who);
  const Tensor& dec_t = require_input(in, "decoder_input_ids", who);
  IA_CHECK(dec_t.rank() == 2 && dec_t.dim(0) > 0 && dec_t.dim(1) > 0, who,
           ": decoder_input_ids must be [batch, seq] with at least one token, got ", shape_str(dec_t.shape()));
  IA_CHECK(features.rank() == 3 && features.dim(0) == dec_t.dim(0), who, ": input_features ",
           shape_str(features.shape()), " and decoder_input_ids ", shape_str(dec_t.shape()), " differ in batch size");
  const int64_t B = dec_t.dim(0), T = dec_t.dim(1), D = p_.d_model, S = encoder_.output_frames();
  Tensor ids = dec_t.to_i64();
  std::vector<int64_t> mask;
  if (const Tensor* m = optional_input(in, "decoder_attention_mask")) {
    IA_CHECK(m->shape() == dec_t.shape(), who, ": decoder_attention_mask shape ", shape_str(m->shape()),
             " does not match decoder_input_ids ", shape_str(dec_t.shape()));
    Tensor mi = m->to_i64();
    mask.assign(mi.i64(), mi.i64() + mi.numel());
    for (auto& v : mask) v = v != 0 ? 1 : 0;
  }
  encode_audio(features);
  Tensor enc_out = Tensor::f32({B, S, D});
  std::memcpy(enc_out.f32(), audio_states_.data(), size_t(B * S * D) * 4);
  start_decoding(T);
  const float* logits = decode(ids.i64(), T, mask.empty() ? nullptr : mask.data());
  TensorMap out{{"encoder_last_hidden_state", enc_out}};
  if (p_.head == EncDecHead::BaseModel) {
    Tensor h = Tensor::f32({B, T, D});
    std::memcpy(h.f32(), decoder_hidden(), size_t(B * T * D) * 4);
    out["last_hidden_state"] = h;
    return out;
  }
  Tensor lg = Tensor::f32({B, T, p_.vocab});
  std::memcpy(lg.f32(), logits, size_t(B * T * p_.vocab) * 4);
  out["logits"] = lg;
  return out;
}

std::vector<std::string> WhisperModel::tasks() const {
  if (p_.head == EncDecHead::ConditionalGeneration) return {"automatic-speech-recognition"};
  return {"feature-extraction"};
}

nlohmann::json WhisperModel::describe() const {
  nlohmann::json j = EncDecModel::describe();
  j["template"] = "speech (whisper: audio encoder + encoder-decoder template decoder)";
  j.erase("encoder");
  j["audio_encoder"] = {{"num_mel_bins", geo_.mel_bins},
                        {"input_frames", 2 * geo_.max_source_positions},
                        {"max_source_positions", geo_.max_source_positions},
                        {"conv", "conv1 k3 pad1 + GELU, conv2 k3 stride2 pad1 + GELU"},
                        {"layers", geo_.layers},
                        {"heads", geo_.heads},
                        {"ffn_dim", geo_.ffn_dim},
                        {"positions", "stored sinusoidal table"}};
  nlohmann::json w;
  w["decoder_start_token_id"] = prompt_.decoder_start;
  if (prompt_.no_timestamps_id) w["no_timestamps_token_id"] = *prompt_.no_timestamps_id;
  if (prompt_.is_multilingual) w["is_multilingual"] = *prompt_.is_multilingual;
  if (prompt_.lang_to_id) w["languages"] = prompt_.lang_to_id->size();
  if (prompt_.task_to_id) {
    nlohmann::json t = nlohmann::json::array();
    for (const auto& [k, _] : *prompt_.task_to_id) t.push_back(k);
    w["tasks"] = t;
  }
  w["suppress_tokens"] = generate_config().suppress_tokens;
  w["begin_suppress_tokens"] = generate_config().begin_suppress_tokens;
  j["whisper_generation"] = w;
  return j;
}

}  // namespace ia
