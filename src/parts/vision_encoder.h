// The pre-norm transformer encoder of ViT-style models (ViT, CLIP vision and text
// towers, BLIP's vision model, LLaVA's tower):
//   x += o(attn(qkv(ln1(x))));  x += fc2(act(fc1(ln2(x))))
// Module names differ per model type and are passed in; q/k/v are fused at load
// into one [3H, H] projection (or read fused, as BLIP stores `qkv`). Attention is
// bidirectional unless `causal` (CLIP text), with an optional key padding mask.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/tensor.h"
#include "parts/nn.h"
#include "parts/weights.h"

namespace ia {

struct VisionEncoderNames {
  std::string ln1, ln2;        // pre-attention / pre-MLP LayerNorms
  std::string q, k, v;         // separate projections (empty when `qkv` is set)
  std::string qkv;             // fused [q | k | v] projection (BLIP)
  std::string o;               // attention output projection
  std::string fc1, fc2;        // MLP
};

struct VisionEncoderSpec {
  int64_t hidden = 0, heads = 0, intermediate = 0, layers = 0;
  float eps = 1e-5f;
  cpu::Act act = cpu::Act::GeluExact;
  std::string who;             // model name for error messages
};

class VisionEncoder {
 public:
  // `layers` is the module holding layer 0, 1, ... (e.g. vb.pp("encoder").pp("layer")).
  // Biases are optional per projection (ViT qkv_bias=false stores none).
  static VisionEncoder load(const VisionEncoderSpec& spec, const Weights& layers, const VisionEncoderNames& names);

  const VisionEncoderSpec& spec() const { return spec_; }

  // Runs layers [0, n_layers) over x [B, T, hidden] in place (n_layers < 0: all).
  // key_mask [B, T] (0 = padding) may be null. When `hidden_states` is given it
  // receives the input and every layer's output (transformers' output_hidden_states).
  void forward(Tensor& x, const int64_t* key_mask = nullptr, bool causal = false,
               std::vector<Tensor>* hidden_states = nullptr, int64_t n_layers = -1) const;

 private:
  struct Layer {
    LayerNorm ln1, ln2;
    Linear qkv, o, fc1, fc2;
  };
  VisionEncoderSpec spec_;
  std::vector<Layer> layers_;
};

}  // namespace ia
