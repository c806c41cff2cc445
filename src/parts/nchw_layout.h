// Layout changes between NCHW feature maps and token rows ([B, H*W, C]), and channel
// concatenation, for blocks that mix convolutions with attention (U-Nets, VAEs).
#pragma once
#include "core/tensor.h"

namespace ia {

Tensor nchw_to_tokens(const Tensor& x);                     // [B, C, H, W] -> [B, H*W, C]
Tensor tokens_to_nchw(const Tensor& t, int64_t h, int64_t w);  // [B, H*W, C] -> [B, C, H, W]
Tensor concat_channels(const Tensor& a, const Tensor& b);     // torch.cat([a, b], dim=1) for NCHW

}  // namespace ia
