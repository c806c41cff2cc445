// The encoder-decoder template's parameters: one "row" per model type (t5,
// bart), filled from config.json in encdec_rows.cpp. The forward pass in
// encdec_model.cpp reads only this, so BART-like models (mbart: pre-norm with
// final layer norms; marian/pegasus: other positions) become new rows.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "backends/cpu/kernels.h"

namespace ia {

struct ModelContext;

enum class EncDecNorm { RMSNorm /* T5LayerNorm: no mean, no bias */, LayerNorm };
enum class EncDecPos { RelativeBuckets /* T5 */, Learned /* BART, offset 2 */ };
// What the checkpoint's architecture exposes.
enum class EncDecHead { ConditionalGeneration /* logits */, BaseModel /* decoder last_hidden_state */, EncoderOnly };

struct EncDecStack {
  int64_t layers = 0, heads = 0, head_dim = 0, ffn_dim = 0;
};

struct EncDecParams {
  std::string model_type, architecture;
  EncDecHead head = EncDecHead::ConditionalGeneration;
  int64_t vocab = 0, d_model = 0;
  EncDecStack enc, dec;

  // Blocks.
  EncDecNorm norm = EncDecNorm::RMSNorm;
  float norm_eps = 1e-6f;
  bool pre_norm = true;          // T5: x += f(norm(x)); BART: x = norm(x + f(x))
  bool final_norm = true;        // norm after the last layer of each stack (T5 final_layer_norm)
  bool embed_norm = false;       // BART layernorm_embedding
  bool attn_bias = false;        // q/k/v/o biases
  bool attn_k_bias = true;       // with attn_bias: k too (Whisper's k_proj has none)
  bool external_encoder = false; // no encoder stack: states come from set_encoder_output (Whisper)
  bool ffn_bias = false;
  bool scale_queries = false;    // scores * head_dim**-0.5 (T5 folds the scale into its init: none)
  bool gated_ffn = false;        // act(wi_0 x) * wi_1 x
  cpu::Act act = cpu::Act::Relu;
  std::string act_name;

  // Positions.
  EncDecPos pos = EncDecPos::RelativeBuckets;
  int64_t num_buckets = 32, max_distance = 128;  // T5 relative attention
  int64_t pos_offset = 2, max_positions = 0;     // learned positions: table rows = max_positions + offset

  // Embeddings / head.
  float embed_scale = 1.f;       // BART scale_embedding: sqrt(d_model)
  bool tie_embeddings = true;    // lm_head = shared embedding
  float lm_head_scale = 1.f;     // T5 tied: decoder output * d_model**-0.5 before the head
  bool final_logits_bias = false;

  // Weight names: stacks live at <base>/<enc_name|dec_name>/<layers>.<i>/...
  std::vector<std::string> base_candidates;  // {"model", ""} for BART
  std::string weight_prefix;                 // the model inside a larger checkpoint ("rag.generator"); "" = root
  std::string shared, enc_name, dec_name, layers;
  std::string self_attn, cross_attn, q, k, v, o;
  std::string self_norm, cross_norm, enc_ffn_norm, dec_ffn_norm;
  std::string enc_ffn, dec_ffn;             // FFN module ("" = the layer itself)
  std::string ffn_in, ffn_gate, ffn_up, ffn_out;
  std::string rel_bias;                     // in the first layer's self-attention
  std::string final_norm_name, embed_norm_name, pos_embed;
  std::string lm_head = "lm_head", logits_bias = "final_logits_bias";  // at the checkpoint root

  // Generation: the config class's defaults for generation keys config.json may
  // omit (BartConfig: forced_eos_token_id = 2, ...), used when transformers builds
  // the generation config from the model config.
  std::vector<std::pair<std::string, int64_t>> generation_defaults;
  std::vector<int64_t> eos_ids;
  int64_t pad_id = -1, decoder_start_id = -1;
};

// Builds the parameter row for ctx.model_type; errors name config file and field.
EncDecParams encdec_params_from_config(const ModelContext& ctx);
// The T5 row without the architecture check: switch_transformers starts from it
// (same weight names and config keys) and swaps the FFN through FeedForwardFactory.
EncDecParams t5_params_from_config(const ModelContext& ctx);
const std::vector<std::string>& encdec_model_types();
// BART's module names (model.encoder/decoder.layers.N.self_attn.q_proj, encoder_attn,
// fc1/fc2, the *_layer_norm names, embed_positions), shared by the rows that reuse them
// (bart, whisper). Embedding, final-norm and head names stay per row.
void set_bart_weight_names(EncDecParams& p);

}  // namespace ia
