// The per-layer weights of DecoderModel, shared by its forward pass
// (decoder_model.cpp) and its threaded decode step (decoder_team_step.cpp).
#pragma once
#include <memory>

#include "parts/nn.h"
#include "templates/decoder_only/decoder_model.h"

namespace ia {

struct DecoderModel::Norm {
  NormKind kind = NormKind::LayerNorm;
  LayerNorm ln;
  RMSNorm rms;
  void forward(const float* x, int64_t rows, float* y) const {
    if (kind == NormKind::LayerNorm) ln.forward(x, rows, y);
    else rms.forward(x, rows, y);
  }
};

struct DecoderModel::Layer {
  std::unique_ptr<Norm> n1, n2, n_post_attn, n_pre_ff, n_post_ff;
  LinearGroup qkv;  // outputs [q | k | v]
  Linear o;
  LayerNorm q_norm, k_norm;
  bool qk_norm = false;
  LinearGroup up;   // fc (Plain) or [gate | up] (Gated)
  Linear down;
};

}  // namespace ia
