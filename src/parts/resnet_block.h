// diffusers ResnetBlock2D (resnet.py) over NCHW activations:
//   h = conv1(act(norm1(x))); h += time_emb_proj(act(temb)) ("default") or
//   norm2(h) * (1 + scale) + shift ("scale_shift"); h = conv2(act(norm2(h)));
//   out = (shortcut(x) + h) / output_scale_factor, the shortcut a 1x1 conv when the
//   channel count changes (or use_in_shortcut forces it).
#pragma once
#include <cstdint>
#include <string>

#include "backends/cpu/kernels.h"
#include "core/tensor.h"
#include "parts/conv.h"
#include "parts/group_norm.h"
#include "parts/nn.h"
#include "parts/weights.h"

namespace ia {

struct ResnetBlock2DSpec {
  int64_t in_channels = 0, out_channels = 0;
  int64_t temb_channels = 0;  // 0 = no time embedding (VAE blocks)
  int64_t groups = 32, groups_out = 0;  // groups_out 0 = groups
  float eps = 1e-6f;
  cpu::Act act = cpu::Act::Silu;
  std::string time_embedding_norm = "default";  // "default" or "scale_shift"
  bool skip_time_act = false;
  double output_scale_factor = 1.0;
};

struct ResnetBlock2D {
  ResnetBlock2DSpec spec;
  GroupNorm norm1, norm2;
  Conv2d conv1, conv2;
  Linear time_emb_proj;  // undefined without a time embedding
  Conv2d conv_shortcut;  // 1x1; only when channels change
  bool has_shortcut = false;

  static ResnetBlock2D load(const Weights& w, const ResnetBlock2DSpec& spec);
  // x [B, in, H, W]; temb [B, temb_channels] or undefined -> [B, out, H, W].
  Tensor forward(const Tensor& x, const Tensor& temb) const;
};

}  // namespace ia
