// Spatial resampling of NCHW activations used by U-Nets and VAEs (diffusers
// downsampling.py / upsampling.py): Downsample2D (stride-2 conv, or 2x2 average
// pool; padding 0 means pad right/bottom by one first) and Upsample2D (nearest
// neighbour x2, or to an explicit size for odd skip shapes, then an optional conv).
#pragma once
#include <cstdint>
#include <optional>

#include "core/tensor.h"
#include "parts/conv.h"
#include "parts/weights.h"

namespace ia {

// torch F.interpolate(mode="nearest") to (Ho, Wo): source index floor(dst * in / out).
Tensor upsample_nearest(const Tensor& x, int64_t out_h, int64_t out_w);
// torch nn.AvgPool2d(kernel 2, stride 2) (floor mode).
Tensor avg_pool_2x2(const Tensor& x);
// F.pad(x, (0, right, 0, bottom)) with zeros.
Tensor pad_right_bottom(const Tensor& x, int64_t right, int64_t bottom);

struct Downsample2D {
  int64_t channels = 0, padding = 1;
  bool use_conv = true;
  Conv2d conv;  // 3x3 stride 2 (when use_conv)

  // `w` is the module ("downsamplers.0"); the conv lives at w.pp("conv").
  static Downsample2D load(const Weights& w, int64_t channels, int64_t out_channels, bool use_conv, int64_t padding);
  Tensor forward(const Tensor& x) const;
};

struct Upsample2D {
  int64_t channels = 0;
  bool use_conv = true;
  Conv2d conv;  // 3x3 padding 1 (when use_conv)

  static Upsample2D load(const Weights& w, int64_t channels, int64_t out_channels, bool use_conv);
  // Nearest x2, or to `size` (H, W) when given (diffusers' upsample_size for odd latents).
  Tensor forward(const Tensor& x, std::optional<std::pair<int64_t, int64_t>> size = std::nullopt) const;
};

}  // namespace ia
