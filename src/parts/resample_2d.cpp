#include "parts/resample_2d.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace ia {

Tensor upsample_nearest(const Tensor& x, int64_t out_h, int64_t out_w) {
  IA_CHECK(x.rank() == 4, "upsample_nearest: input ", shape_str(x.shape()), " must be [B, C, H, W]");
  IA_CHECK(out_h > 0 && out_w > 0, "upsample_nearest: output size ", out_h, "x", out_w, " must be positive");
  const int64_t BC = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3);
  Tensor y = Tensor::f32({x.dim(0), x.dim(1), out_h, out_w});
  // torch computes the source index in float: floor(dst * (in / out)), clamped to in - 1.
  const float sh = float(H) / float(out_h), sw = float(W) / float(out_w);
  std::vector<int64_t> src_w(static_cast<size_t>(out_w));
  for (int64_t j = 0; j < out_w; ++j) src_w[size_t(j)] = std::min(int64_t(float(j) * sw), W - 1);
  const float* xd = x.f32();
  float* yd = y.f32();
#pragma omp parallel for schedule(static) if (BC * out_h * out_w > 65536)
  for (int64_t p = 0; p < BC; ++p) {
    for (int64_t i = 0; i < out_h; ++i) {
      const int64_t si = std::min(int64_t(float(i) * sh), H - 1);
      const float* xr = xd + (p * H + si) * W;
      float* yr = yd + (p * out_h + i) * out_w;
      for (int64_t j = 0; j < out_w; ++j) yr[j] = xr[src_w[size_t(j)]];
    }
  }
  return y;
}

Tensor avg_pool_2x2(const Tensor& x) {
  IA_CHECK(x.rank() == 4 && x.dim(2) >= 2 && x.dim(3) >= 2, "avg_pool2d: input ", shape_str(x.shape()),
           " must be [B, C, H>=2, W>=2]");
  const int64_t BC = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3), Ho = H / 2, Wo = W / 2;
  Tensor y = Tensor::f32({x.dim(0), x.dim(1), Ho, Wo});
  const float* xd = x.f32();
  float* yd = y.f32();
  for (int64_t p = 0; p < BC; ++p)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) {
        const float* a = xd + (p * H + 2 * i) * W + 2 * j;
        yd[(p * Ho + i) * Wo + j] = (a[0] + a[1] + a[W] + a[W + 1]) / 4.f;
      }
  return y;
}

Tensor pad_right_bottom(const Tensor& x, int64_t right, int64_t bottom) {
  IA_CHECK(x.rank() == 4, "pad: input ", shape_str(x.shape()), " must be [B, C, H, W]");
  const int64_t BC = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3), Ho = H + bottom, Wo = W + right;
  Tensor y = Tensor::zeros(DType::F32, {x.dim(0), x.dim(1), Ho, Wo});
  const float* xd = x.f32();
  float* yd = y.f32();
  for (int64_t p = 0; p < BC; ++p)
    for (int64_t i = 0; i < H; ++i) std::memcpy(yd + (p * Ho + i) * Wo, xd + (p * H + i) * W, size_t(W) * sizeof(float));
  return y;
}

Downsample2D Downsample2D::load(const Weights& w, int64_t channels, int64_t out_channels, bool use_conv,
                                int64_t padding) {
  Downsample2D d;
  d.channels = channels;
  d.use_conv = use_conv;
  d.padding = padding;
  if (use_conv) {
    Conv2dSpec s;
    s.in_channels = channels;
    s.out_channels = out_channels;
    s.kernel_h = s.kernel_w = 3;
    s.stride_h = s.stride_w = 2;
    s.pad_h = s.pad_w = padding;
    d.conv = Conv2d::load(w.pp("conv"), s);
  } else {
    IA_CHECK(channels == out_channels, w.prefix(), ": average-pool downsampling cannot change channels (", channels,
             " -> ", out_channels, ")");
  }
  return d;
}

Tensor Downsample2D::forward(const Tensor& x) const {
  IA_CHECK(x.rank() == 4 && x.dim(1) == channels, "Downsample2D: input ", shape_str(x.shape()), " must be [B, ",
           channels, ", H, W]");
  if (!use_conv) return avg_pool_2x2(x);
  if (padding == 0) return conv.forward(pad_right_bottom(x, 1, 1));
  return conv.forward(x);
}

Upsample2D Upsample2D::load(const Weights& w, int64_t channels, int64_t out_channels, bool use_conv) {
  Upsample2D u;
  u.channels = channels;
  u.use_conv = use_conv;
  if (use_conv) {
    Conv2dSpec s;
    s.in_channels = channels;
    s.out_channels = out_channels;
    s.kernel_h = s.kernel_w = 3;
    s.pad_h = s.pad_w = 1;
    u.conv = Conv2d::load(w.pp("conv"), s);
  }
  return u;
}

Tensor Upsample2D::forward(const Tensor& x, std::optional<std::pair<int64_t, int64_t>> size) const {
  IA_CHECK(x.rank() == 4 && x.dim(1) == channels, "Upsample2D: input ", shape_str(x.shape()), " must be [B, ",
           channels, ", H, W]");
  Tensor up = size ? upsample_nearest(x, size->first, size->second) : upsample_nearest(x, 2 * x.dim(2), 2 * x.dim(3));
  return use_conv ? conv.forward(up) : up;
}

}  // namespace ia
