// One transformer encoder block of the speech family: self-attention with
// q/k/v/out projections (scores scaled by head_dim**-0.5) and a two-layer
// feed-forward part, with either placement of the two LayerNorms:
//   pre-norm  (Whisper, wav2vec2 do_stable_layer_norm): x += attn(ln1(x)); x += ffn(ln2(x))
//   post-norm (wav2vec2):                               x = ln1(x + attn(x)); x = ln2(x + ffn(x))
// The weight names differ per model type and come in SpeechLayerNames.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "parts/nn.h"

namespace ia {

struct SpeechLayerNames {
  std::string attn, q, k, v, o;      // e.g. "self_attn", "q_proj", ...
  std::string attn_norm, ffn_norm;   // e.g. "self_attn_layer_norm", "final_layer_norm"
  std::string fc1, fc2;              // e.g. "fc1", "fc2" or "feed_forward.intermediate_dense"
  bool k_bias = true;                // Whisper's k_proj has no bias
};

struct SpeechLayerGeometry {
  int64_t d_model = 0, heads = 0, ffn_dim = 0;
  float eps = 1e-5f;
  bool pre_norm = true;
  cpu::Act act = cpu::Act::GeluExact;
};

// Reusable work buffers for a stack of layers (grown on demand).
struct SpeechLayerWork {
  std::vector<float> h, q, k, v, att, ffn, tmp;
};

class SpeechEncoderLayer {
 public:
  static SpeechEncoderLayer load(const Weights& w, const SpeechLayerGeometry& g, const SpeechLayerNames& n);
  // x [B*T, d_model] in place; key_mask [B, T] (1 = real frame) or null.
  void forward(float* x, int64_t B, int64_t T, const int64_t* key_mask, SpeechLayerWork& work) const;

 private:
  SpeechLayerGeometry g_;
  Linear q_, k_, v_, o_, fc1_, fc2_;
  LayerNorm attn_norm_, ffn_norm_;
};

}  // namespace ia
