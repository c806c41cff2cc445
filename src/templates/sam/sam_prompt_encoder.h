// SAM's prompt side: the random-Fourier positional embedding shared with the
// image grid (SamPositionalEmbedding) and the prompt encoder turning points,
// boxes and masks into sparse and dense embeddings (SamPromptEncoder).
#pragma once
#include <cstdint>
#include <vector>

#include "backends/cpu/kernels.h"
#include "parts/conv.h"
#include "templates/sam/sam_ops.h"
#include "templates/sam/sam_params.h"

namespace ia {

class SamPositionalEmbedding {
 public:
  SamPositionalEmbedding() = default;
  SamPositionalEmbedding(const Tensor& gaussian /*[2, F]*/) : g_(gaussian), feats_(gaussian.dim(1)) {}
  int64_t dim() const { return 2 * feats_; }
  // (x, y) already normalised to [0, 1] -> out[2F] = [sin(2pi (2c-1) G), cos(...)]
  void encode(float x, float y, float* out) const;
  // The image-wide embedding for a size x size grid, rows [size*size, 2F] (row-major y, x).
  Tensor grid(int64_t size) const;

 private:
  Tensor g_;
  int64_t feats_ = 0;
};

struct SamPromptInputs {
  const Tensor* points = nullptr;  // [B, P, N, 2] (x, y) in input-image pixels
  const Tensor* labels = nullptr;  // [B, P, N]; 1 fg, 0 bg, -1 not-a-point, -10 padding
  const Tensor* boxes = nullptr;   // [B, nb, 4] x0, y0, x1, y1
  const Tensor* masks = nullptr;   // [B, 1, 4*size, 4*size]
};

struct SamPromptEmbeddings {
  Tensor sparse;  // [B, P, N, H]
  Tensor dense;   // [Bd, H, size, size]; Bd = 1 broadcasts over the batch
};

class SamPromptEncoder {
 public:
  SamPromptEncoder(const SamPromptParams& p, const SamPositionalEmbedding& pe, const Weights& w);  // w = "prompt_encoder"
  SamPromptEmbeddings forward(const SamPromptInputs& in) const;

 private:
  void embed_points(const Tensor& points, const Tensor& labels, bool pad, float* out /*[B,P,N(+1),H]*/) const;
  void embed_boxes(const Tensor& boxes, float* out /*[B, nb, 2, H]*/) const;
  Tensor embed_masks(const Tensor& masks) const;

  SamPromptParams p_;
  SamPositionalEmbedding pe_;
  cpu::Act act_;
  Conv2d mask_conv1_, mask_conv2_, mask_conv3_;
  ChannelsFirstLayerNorm mask_ln1_, mask_ln2_;
  Tensor no_mask_embed_, not_a_point_embed_;  // [1, H]
  std::vector<Tensor> point_embed_;           // num_point_embeddings x [1, H]
};

}  // namespace ia
