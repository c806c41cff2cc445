// Input embeddings of the encoder-only template: word + token-type + position
// tables, LayerNorm, and the optional projections between embedding and hidden
// size (DeBERTa's embed_proj before the norm, ELECTRA's embeddings_project and
// ALBERT's embedding_hidden_mapping_in after it).
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "parts/nn.h"
#include "parts/weights.h"
#include "templates/encoder_only/encoder_params.h"

namespace ia {

struct EncoderEmbeddings {
  Embedding word, position, token_type;  // position / token_type undefined when the model has none
  LayerNorm norm;
  Linear project_before_norm;  // DeBERTa embed_proj (embedding_size != hidden_size)
  Linear project_after_norm;   // ELECTRA embeddings_project, ALBERT embedding_hidden_mapping_in
  bool add_positions = true;
  bool padding_idx_positions = false;
  bool zero_padded_rows = false;  // DeBERTa multiplies the embeddings by the attention mask
  int64_t pad_token_id = 0, embedding_size = 0, hidden_size = 0;
  std::string config_label;

  // `base` is the base model's module (e.g. "bert."); ALBERT's mapping lives under base.encoder.
  static EncoderEmbeddings load(const Weights& base, const EncoderParams& p);

  // ids [B, T]; token_type_ids / position_ids may be null; mask [B*T] (1 = token). Returns [B*T, hidden].
  Tensor forward(const Tensor& input_ids, const Tensor* token_type_ids, const Tensor* position_ids,
                 const int64_t* mask) const;

 private:
  Tensor embed(const Tensor& input_ids, const Tensor* token_type_ids, const Tensor* position_ids,
               const int64_t* mask) const;
};

// DistilBERT's sinusoidal table: even dims sin(pos / 10000^(2*(j/2)/dim)), odd dims cos (float64 then float32).
Tensor sinusoidal_position_table(int64_t n_pos, int64_t dim);

}  // namespace ia
