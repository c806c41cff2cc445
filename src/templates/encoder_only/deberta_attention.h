// DeBERTa-v2 specifics of the encoder-only template: the disentangled
// attention bias (content->position c2p and position->content p2c over
// log-bucketed relative positions) and the optional ConvLayer after layer 0.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "parts/nn.h"
#include "parts/weights.h"
#include "templates/encoder_only/encoder_layer.h"
#include "templates/encoder_only/encoder_params.h"

namespace ia {

// encoder.rel_embeddings [2*att_span, hidden], passed through encoder.LayerNorm when norm_rel_ebd has
// "layer_norm". Undefined when relative attention is off.
Tensor deberta_rel_embeddings(const Weights& encoder, const EncoderParams& p);

// Relative positions [T, T] for the batch (build_relative_position with buckets).
void deberta_prepare_batch(const EncoderParams& p, EncoderBatch& b);

// bias[b, h, i, j] = (q_i . pos_key[c2p(i,j)] + k_j . pos_query[p2c(j,i)]) / sqrt(head_dim * scale_factor).
void deberta_disentangled_bias(const EncoderLayer& L, const EncoderParams& p, const EncoderBatch& b, const float* q,
                               const float* k, float* bias);

// ConvLayer: LN(layer0_out + act(mask * conv1d(embeddings))) * mask.
struct DebertaConv {
  Tensor weight;  // [hidden, hidden / groups, kernel]
  Tensor bias;    // [hidden]
  LayerNorm norm;
  int64_t kernel = 0, groups = 1, hidden = 0;
  cpu::Act act = cpu::Act::Tanh;
  bool defined() const { return kernel > 0; }
  static DebertaConv load(const Weights& encoder, const EncoderParams& p);
  // embeddings / x: [B*T, hidden]; x (the first layer's output) is replaced.
  void forward(const Tensor& embeddings, const EncoderBatch& b, Tensor& x) const;
};

}  // namespace ia
