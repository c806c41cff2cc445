#include "parts/group_norm.h"

#include <cmath>

#include "core/error.h"

namespace ia {

GroupNorm GroupNorm::load(const Weights& w, int64_t groups, int64_t channels, float eps, bool affine) {
  IA_CHECK(groups > 0 && channels > 0 && channels % groups == 0, w.prefix(), ": GroupNorm num_groups (", groups,
           ") must divide num_channels (", channels, ")");
  Tensor weight, bias;
  if (affine) {
    weight = w.get("weight", {channels});
    bias = w.get("bias", {channels});
  }
  GroupNorm g;
  g.groups = groups;
  g.channels = channels;
  g.eps = eps;
  g.weight = std::move(weight);
  g.bias = std::move(bias);
  return g;
}

GroupNorm GroupNorm::from(int64_t groups, float eps, Tensor weight, Tensor bias) {
  IA_CHECK(weight.defined() && weight.rank() == 1, "GroupNorm: weight must be 1-D");
  GroupNorm g;
  g.channels = weight.dim(0);
  IA_CHECK(groups > 0 && g.channels % groups == 0, "GroupNorm: num_groups (", groups,
           ") must divide num_channels (", g.channels, ")");
  IA_CHECK(!bias.defined() || bias.numel() == g.channels, "GroupNorm: bias size != weight size");
  g.groups = groups;
  g.eps = eps;
  g.weight = weight.to_f32();
  if (bias.defined()) g.bias = bias.to_f32();
  return g;
}

void GroupNorm::forward(const float* x, int64_t B, int64_t spatial, float* y, cpu::Act act) const {
  const int64_t cpg = channels / groups, n = cpg * spatial;
  const float* w = weight.defined() ? weight.f32() : nullptr;
  const float* bi = bias.defined() ? bias.f32() : nullptr;
#pragma omp parallel for schedule(static) if (B * channels * spatial > 65536)
  for (int64_t bg = 0; bg < B * groups; ++bg) {
    const int64_t b = bg / groups, g = bg % groups;
    const float* xs = x + (b * channels + g * cpg) * spatial;
    float* ys = y + (b * channels + g * cpg) * spatial;
    // Two passes in double: the mean first, then the centred variance (biased, as torch).
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += xs[i];
    const double mean = sum / double(n);
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = xs[i] - mean;
      sq += d * d;
    }
    const float rstd = float(1.0 / std::sqrt(sq / double(n) + double(eps)));
    const float m = float(mean);
    for (int64_t c = 0; c < cpg; ++c) {
      const int64_t ch = g * cpg + c;
      const float a = rstd * (w ? w[ch] : 1.f);
      const float sh = (bi ? bi[ch] : 0.f) - m * a;
      const float* xc = xs + c * spatial;
      float* yc = ys + c * spatial;
      for (int64_t i = 0; i < spatial; ++i) yc[i] = xc[i] * a + sh;
      if (act != cpu::Act::Identity) cpu::apply_act(act, yc, spatial);
    }
  }
}

Tensor GroupNorm::forward(const Tensor& x, cpu::Act act) const {
  IA_CHECK(x.rank() >= 2 && x.dim(1) == channels, "GroupNorm: input ", shape_str(x.shape()), " must be [B, ",
           channels, ", ...]");
  const Tensor xf = x.dtype() == DType::F32 ? x : x.to_f32();
  Tensor y = Tensor::f32(x.shape());
  forward(xf.f32(), x.dim(0), x.numel() / (x.dim(0) * channels), y.f32(), act);
  return y;
}

}  // namespace ia
