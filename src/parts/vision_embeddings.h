// Patch embeddings of ViT-style vision encoders (ViT, CLIP, BLIP, LLaVA's tower...):
// a Conv2d with kernel = stride = patch over NCHW pixels, an optional class token
// in front and learned absolute position embeddings added to every token.
// The convolution runs as one GEMM: non-overlapping patches are gathered into
// rows [C * ph * pw] (the order of the conv weight) and multiplied by the weight
// viewed as [hidden, C * ph * pw], so no im2col transpose is needed.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "parts/nn.h"
#include "parts/weights.h"

namespace ia {

struct PatchEmbeddingSpec {
  int64_t channels = 3, hidden = 0;
  int64_t image_h = 0, image_w = 0;  // the size the position table was made for
  int64_t patch_h = 0, patch_w = 0;
  std::string who;                   // model name for error messages
};

class PatchEmbeddings {
 public:
  // `proj` is the Conv2d module (weight [hidden, C, ph, pw], bias when the checkpoint has one).
  // `cls` (a [hidden] / [1, 1, hidden] parameter) and `pos` (a [N(+1), hidden] / [1, N(+1), hidden]
  // parameter) are optional; absent tensors are left out of forward().
  static PatchEmbeddings load(const PatchEmbeddingSpec& spec, const Weights& proj, const Weights* cls_module,
                              const std::string& cls_name, const Weights* pos_module, const std::string& pos_name);

  int64_t grid_h() const { return spec_.image_h / spec_.patch_h; }
  int64_t grid_w() const { return spec_.image_w / spec_.patch_w; }
  int64_t num_patches() const { return grid_h() * grid_w(); }
  // Tokens per image: patches plus the class token.
  int64_t seq_len() const { return num_patches() + (cls_.defined() ? 1 : 0); }
  int64_t hidden() const { return spec_.hidden; }
  const PatchEmbeddingSpec& spec() const { return spec_; }

  // pixel_values [B, C, H, W] (H, W must equal the configured image size: transformers
  // raises without interpolate_pos_encoding) -> [B, seq_len, hidden].
  Tensor forward(const Tensor& pixel_values) const;
  // The patch projection alone: [B, C, H, W] -> [B, num_patches, hidden] (row-major patch order).
  Tensor project(const Tensor& pixel_values) const;

 private:
  PatchEmbeddingSpec spec_;
  Linear proj_;  // conv weight viewed as [hidden, C * ph * pw]
  Tensor cls_;   // [hidden] or undefined
  Tensor pos_;   // [seq_len, hidden] or undefined
};

}  // namespace ia
