// The encoder-only template's parameters: every BERT-family model type is the
// same post-LayerNorm transformer encoder, differing only in the data below
// (weight names, embedding recipe, relative-position scheme, heads).
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "backends/cpu/kernels.h"

namespace ia {

struct ModelContext;

// Weight naming / layer wiring of the model type's transformers module tree.
enum class EncoderNaming {
  Bert,        // encoder.layer.N.attention.self.query ...      (bert, roberta, xlm-roberta, electra, dpr)
  Albert,      // encoder.albert_layer_groups.G.albert_layers.J ... (shared layer groups)
  DistilBert,  // transformer.layer.N.attention.q_lin ...
  DebertaV2,   // encoder.layer.N.attention.self.query_proj ... (disentangled attention)
};

// How token positions enter the model (BERT's position_embedding_type and friends).
enum class PositionKind {
  Absolute,          // learned table added to the embeddings
  RelativeKey,       // Shaw et al.: q . E[i-j] added to the scores
  RelativeKeyQuery,  // Huang et al.: q . E[i-j] + k . E[i-j]
  None,              // DeBERTa with position_biased_input=false (positions only via disentangled attention)
};

// DeBERTa-v2 disentangled attention options (configuration_deberta_v2.py).
struct DebertaOptions {
  bool relative_attention = false;
  int64_t max_relative_positions = -1;  // resolved: < 1 means max_position_embeddings
  int64_t position_buckets = -1;        // > 0: log-bucketed relative positions
  int64_t att_span = 0;                 // pos_ebd_size: buckets when bucketed, else max_relative_positions
  bool c2p = false, p2c = false;        // pos_att_type
  bool share_att_key = false;           // positions projected with query/key projections
  bool norm_rel_ebd = false;            // "layer_norm" in norm_rel_ebd: encoder.LayerNorm on rel_embeddings
  bool position_biased_input = true;    // absolute position embeddings added to the input
  int64_t conv_kernel_size = 0;         // > 0: ConvLayer after the first layer
  int64_t conv_groups = 1;
  std::string conv_act = "tanh";
  std::string pooler_hidden_act = "gelu";
  int64_t pooler_hidden_size = 0;
};

struct EncoderParams {
  std::string model_type, architecture;
  std::string config_label;  // config.json path, for error messages
  EncoderNaming naming = EncoderNaming::Bert;

  int64_t vocab_size = 0, hidden_size = 0, embedding_size = 0;  // embedding_size != hidden: factorised embeddings
  int64_t num_layers = 0, num_heads = 0, head_dim = 0, intermediate_size = 0;
  int64_t max_position_embeddings = 0, type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
  std::string hidden_act;
  cpu::Act act = cpu::Act::GeluExact;

  PositionKind positions = PositionKind::Absolute;
  bool padding_idx_positions = false;  // RoBERTa: position = padding_idx + cumsum(id != pad)
  int64_t pad_token_id = 0;
  bool sinusoidal_positions = false;   // DistilBERT sinusoidal_pos_embds (used when the table is not stored)

  int64_t num_hidden_groups = 1, inner_group_num = 1;  // ALBERT parameter sharing
  bool is_decoder = false;             // BERT-family configs may ask for causal self-attention
  bool tie_word_embeddings = true;
  int64_t num_labels = 2;
  int64_t projection_dim = 0;          // DPR encode_proj
  DebertaOptions deberta;

  static EncoderParams from_context(const ModelContext& ctx);
  nlohmann::json describe() const;
};

const char* position_kind_name(PositionKind p);

}  // namespace ia
