#include "templates/sam/sam_ops.h"

#include <cmath>

#include "core/error.h"

namespace ia {

ChannelsFirstLayerNorm ChannelsFirstLayerNorm::load(const Weights& w, int64_t channels, float eps) {
  ChannelsFirstLayerNorm n;
  n.channels = channels;
  n.eps = eps;
  n.weight = w.get("weight", {channels});
  n.bias = w.get("bias", {channels});
  return n;
}

void ChannelsFirstLayerNorm::forward_inplace(Tensor& x) const {
  IA_CHECK(x.rank() == 4 && x.dim(1) == channels, "SamLayerNorm: input ", shape_str(x.shape()), " has not ", channels,
           " channels");
  const int64_t B = x.dim(0), C = channels, HW = x.dim(2) * x.dim(3);
  float* p = x.f32();
  const float* w = weight.f32();
  const float* b = bias.f32();
  for (int64_t bi = 0; bi < B; ++bi) {
    float* img = p + bi * C * HW;
    for (int64_t s = 0; s < HW; ++s) {
      // Two passes like the reference (mean, then mean of squared deviations).
      float mean = 0.f;
      for (int64_t c = 0; c < C; ++c) mean += img[c * HW + s];
      mean /= float(C);
      float var = 0.f;
      for (int64_t c = 0; c < C; ++c) {
        float d = img[c * HW + s] - mean;
        var += d * d;
      }
      var /= float(C);
      const float inv = 1.f / std::sqrt(var + eps);
      for (int64_t c = 0; c < C; ++c) img[c * HW + s] = w[c] * ((img[c * HW + s] - mean) * inv) + b[c];
    }
  }
}

Tensor nchw_to_nhwc(const Tensor& x) {
  IA_CHECK(x.rank() == 4, "nchw_to_nhwc: rank ", x.rank());
  const int64_t B = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Tensor y = Tensor::f32({B, H, W, C});
  const float* s = x.f32();
  float* d = y.f32();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H * W; ++i) d[(b * H * W + i) * C + c] = s[(b * C + c) * H * W + i];
  return y;
}

Tensor nhwc_to_nchw(const Tensor& x) {
  IA_CHECK(x.rank() == 4, "nhwc_to_nchw: rank ", x.rank());
  const int64_t B = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
  Tensor y = Tensor::f32({B, C, H, W});
  const float* s = x.f32();
  float* d = y.f32();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < H * W; ++i)
      for (int64_t c = 0; c < C; ++c) d[(b * C + c) * H * W + i] = s[(b * H * W + i) * C + c];
  return y;
}

}  // namespace ia
