// SAM's mask decoder (SamMaskDecoder): a two-way transformer between prompt
// tokens and image tokens, transposed-convolution upscaling, hypernetwork MLPs
// producing per-token mask weights, and the IoU prediction head.
#pragma once
#include <cstdint>
#include <vector>

#include "backends/cpu/kernels.h"
#include "parts/conv.h"
#include "parts/nn.h"
#include "templates/sam/sam_ops.h"
#include "templates/sam/sam_params.h"

namespace ia {

class SamMaskDecoder {
 public:
  SamMaskDecoder(const SamDecoderParams& p, const Weights& w);  // w = "mask_decoder"
  struct Output {
    Tensor masks;       // [B, P, m, 4h, 4w] low-resolution mask logits
    Tensor iou_scores;  // [B, P, m]
  };
  // image_embeddings [B, H, h, w]; image_pe rows [h*w, H]; sparse [B, P, N, H];
  // dense [B or 1, H, h, w]. m = num_multimask_outputs when multimask, else 1.
  Output forward(const Tensor& image_embeddings, const Tensor& image_pe, const Tensor& sparse, const Tensor& dense,
                 bool multimask) const;

 private:
  // SamAttention: projections to an internal width (hidden / downsample), heads, back to hidden.
  struct Attn {
    Linear q, k, v, o;
    int64_t internal = 0, heads = 0;
    static Attn load(const Weights& w, int64_t hidden, int64_t internal, int64_t heads);
    // q_in [n, Tq, hidden], k_in/v_in [n, Tk, hidden] -> [n, Tq, hidden]
    Tensor forward(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in) const;
  };
  struct Block {
    Attn self_attn, t2i, i2t;
    LayerNorm ln1, ln2, ln3, ln4;
    Linear lin1, lin2;
    bool skip_first_layer_pe = false;
  };
  struct FeedForward {  // SamFeedForward: proj_in, (depth-2) hidden layers, proj_out; ReLU between
    Linear in, out;
    std::vector<Linear> mid;
    static FeedForward load(const Weights& w, int64_t in_dim, int64_t hidden, int64_t out_dim, int64_t depth);
    Tensor forward(const Tensor& x) const;
  };
  void block_forward(const Block& L, Tensor& queries, Tensor& keys, const Tensor& qpe, const Tensor& kpe) const;

  SamDecoderParams p_;
  cpu::Act act_;
  Tensor iou_token_, mask_tokens_;  // [1, H], [M, H]
  int64_t num_mask_tokens_ = 0;
  std::vector<Block> blocks_;
  Attn final_attn_;
  LayerNorm final_ln_;
  ConvTranspose2d up1_, up2_;
  ChannelsFirstLayerNorm up_ln_;
  std::vector<FeedForward> hyper_;
  FeedForward iou_head_;
};

}  // namespace ia
