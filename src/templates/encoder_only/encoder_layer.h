// One post-LayerNorm transformer encoder layer, shared by every model type of
// the template: self-attention -> dense -> LN(x + .) -> FFN -> LN(h + .).
// The model type only changes weight names (EncoderNaming) and the attention
// score terms (BERT relative_key(_query), DeBERTa disentangled bias).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "parts/nn.h"
#include "parts/weights.h"
#include "templates/encoder_only/encoder_params.h"

namespace ia {

struct EncoderLayer {
  Linear q, k, v, o;
  LayerNorm attn_norm;
  Linear ffn_in, ffn_out;
  LayerNorm ffn_norm;
  Tensor distance_embedding;  // [2*max_position_embeddings-1, head_dim] (relative_key / relative_key_query)
  Tensor pos_key, pos_query;  // DeBERTa: relative embeddings projected by this layer [2*att_span, heads*head_dim]

  // `w` is the layer's module (e.g. bert.encoder.layer.3). `rel_embeddings` (DeBERTa, already normalised)
  // lets the layer project its position tables once at load time.
  static EncoderLayer load(const Weights& w, const EncoderParams& p, const Tensor* rel_embeddings = nullptr);
};

// Batch facts every layer needs.
struct EncoderBatch {
  int64_t B = 0, T = 0;
  std::vector<int64_t> mask;  // [B*T], 1 = real token
  bool any_padding = false;
  std::vector<int64_t> masked_rows;  // batch rows whose mask is all zero
  std::vector<int64_t> rel_pos;  // DeBERTa relative positions [T, T]
};

// Buffers reused by every layer of one forward pass.
struct EncoderScratch {
  Tensor q, k, v, ctx, attn, h, ffn, bias;
  void ensure(const EncoderParams& p, const EncoderBatch& b, bool need_bias);
};

// x [B*T, hidden] is updated in place.
void encoder_layer_forward(const EncoderLayer& L, const EncoderParams& p, const EncoderBatch& batch, Tensor& x,
                           EncoderScratch& s);

}  // namespace ia
