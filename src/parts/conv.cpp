#include "parts/conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/error.h"

namespace ia {

namespace {

void check_spec(const Conv2dSpec& s, const std::string& where) {
  IA_CHECK(s.in_channels > 0 && s.out_channels > 0, where, ": conv channels must be positive");
  IA_CHECK(s.kernel_h > 0 && s.kernel_w > 0 && s.stride_h > 0 && s.stride_w > 0 && s.dilation_h > 0 &&
               s.dilation_w > 0 && s.pad_h >= 0 && s.pad_w >= 0,
           where, ": invalid conv kernel/stride/padding/dilation");
  IA_CHECK(s.groups > 0 && s.in_channels % s.groups == 0 && s.out_channels % s.groups == 0, where,
           ": groups (", s.groups, ") must divide in_channels (", s.in_channels, ") and out_channels (",
           s.out_channels, ")");
}

}  // namespace

Conv2d Conv2d::load(const Weights& w, const Conv2dSpec& spec) {
  check_spec(spec, w.full("weight"));
  Tensor weight = w.get("weight", {spec.out_channels, spec.in_channels / spec.groups, spec.kernel_h, spec.kernel_w});
  Tensor bias;
  if (spec.bias) bias = w.get("bias", {spec.out_channels});
  return from(spec, std::move(weight), std::move(bias));
}

Conv2d Conv2d::from(const Conv2dSpec& spec, Tensor weight, Tensor bias) {
  check_spec(spec, "conv2d");
  IA_CHECK(weight.shape() == Shape({spec.out_channels, spec.in_channels / spec.groups, spec.kernel_h, spec.kernel_w}),
           "conv2d: weight shape ", shape_str(weight.shape()), " does not match the conv spec");
  Conv2d c;
  c.spec = spec;
  c.weight = weight.dtype() == DType::F32 ? std::move(weight) : weight.to_f32();
  if (bias.defined()) {
    IA_CHECK(bias.numel() == spec.out_channels, "conv2d: bias has ", bias.numel(), " values, expected ",
             spec.out_channels);
    c.bias = bias.dtype() == DType::F32 ? std::move(bias) : bias.to_f32();
    c.spec.bias = true;
  } else {
    c.spec.bias = false;
  }
  return c;
}

int64_t Conv2d::out_h(int64_t h) const {
  return (h + 2 * spec.pad_h - spec.dilation_h * (spec.kernel_h - 1) - 1) / spec.stride_h + 1;
}
int64_t Conv2d::out_w(int64_t w) const {
  return (w + 2 * spec.pad_w - spec.dilation_w * (spec.kernel_w - 1) - 1) / spec.stride_w + 1;
}

Tensor Conv2d::forward(const Tensor& x) const {
  const Conv2dSpec& s = spec;
  IA_CHECK(x.rank() == 4 && x.dim(1) == s.in_channels, "conv2d: input ", shape_str(x.shape()),
           " must be [B, ", s.in_channels, ", H, W]");
  const int64_t B = x.dim(0), H = x.dim(2), W = x.dim(3);
  const int64_t Ho = out_h(H), Wo = out_w(W);
  IA_CHECK(Ho > 0 && Wo > 0, "conv2d: input ", H, "x", W, " is smaller than the kernel");
  const int64_t cin_g = s.in_channels / s.groups, cout_g = s.out_channels / s.groups;
  const int64_t kk = cin_g * s.kernel_h * s.kernel_w, P = Ho * Wo;
  Tensor y = Tensor::f32({B, s.out_channels, Ho, Wo});
  const bool pointwise = s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 &&
                         s.pad_w == 0;
  std::vector<float> col(pointwise ? 0 : size_t(kk * P));
  const float* xd = x.f32();
  float* yd = y.f32();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t g = 0; g < s.groups; ++g) {
      const float* xg = xd + (b * s.in_channels + g * cin_g) * H * W;
      const float* A = weight.f32() + g * cout_g * kk;
      float* yg = yd + (b * s.out_channels + g * cout_g) * P;
      const float* Bm = xg;
      if (!pointwise) {
        // col[(c, i, j), (oh, ow)] = x[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] (0 outside)
#pragma omp parallel for schedule(static) if (kk * P > 65536)
        for (int64_t r = 0; r < kk; ++r) {
          const int64_t c = r / (s.kernel_h * s.kernel_w), i = (r / s.kernel_w) % s.kernel_h, j = r % s.kernel_w;
          float* dst = col.data() + r * P;
          const float* xc = xg + c * H * W;
          for (int64_t oh = 0; oh < Ho; ++oh) {
            const int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
            float* drow = dst + oh * Wo;
            if (ih < 0 || ih >= H) {
              std::fill(drow, drow + Wo, 0.f);
              continue;
            }
            const float* xrow = xc + ih * W;
            for (int64_t ow = 0; ow < Wo; ++ow) {
              const int64_t iw = ow * s.stride_w - s.pad_w + j * s.dilation_w;
              drow[ow] = (iw >= 0 && iw < W) ? xrow[iw] : 0.f;
            }
          }
        }
        Bm = col.data();
      }
      cpu::gemm_nn(cout_g, P, kk, A, kk, Bm, P, yg, P);
      if (bias.defined())
        for (int64_t o = 0; o < cout_g; ++o) {
          const float bv = bias.f32()[g * cout_g + o];
          float* row = yg + o * P;
          for (int64_t p = 0; p < P; ++p) row[p] += bv;
        }
    }
  }
  return y;
}

Conv1d Conv1d::load(const Weights& w, int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                    int64_t dilation, int64_t groups, bool bias) {
  Tensor weight = w.get("weight", {out, in / std::max<int64_t>(groups, 1), kernel});
  Tensor b;
  if (bias) b = w.get("bias", {out});
  return from(std::move(weight), std::move(b), stride, padding, dilation, groups);
}

Conv1d Conv1d::from(Tensor weight, Tensor bias, int64_t stride, int64_t padding, int64_t dilation, int64_t groups) {
  IA_CHECK(weight.rank() == 3, "conv1d: weight must be [out, in/groups, kernel], got ", shape_str(weight.shape()));
  Conv2dSpec s;
  s.out_channels = weight.dim(0);
  s.in_channels = weight.dim(1) * groups;
  s.kernel_w = weight.dim(2);
  s.stride_w = stride;
  s.pad_w = padding;
  s.dilation_w = dilation;
  s.groups = groups;
  Conv1d c;
  c.conv = Conv2d::from(s, weight.reshape({s.out_channels, weight.dim(1), 1, s.kernel_w}), std::move(bias));
  return c;
}

Tensor Conv1d::forward(const Tensor& x) const {
  IA_CHECK(x.rank() == 3, "conv1d: input must be [B, C, T], got ", shape_str(x.shape()));
  Tensor y = conv.forward(x.reshape({x.dim(0), x.dim(1), 1, x.dim(2)}));
  return y.reshape({y.dim(0), y.dim(1), y.dim(3)});
}

ConvTranspose2d ConvTranspose2d::load(const Weights& w, int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                      int64_t padding, int64_t output_padding, bool bias) {
  IA_CHECK(kernel > 0 && stride > 0 && padding >= 0 && output_padding >= 0 && output_padding < stride,
           w.full("weight"), ": invalid transposed-conv kernel/stride/padding");
  ConvTranspose2d c;
  c.in_channels = in;
  c.out_channels = out;
  c.kernel_h = c.kernel_w = kernel;
  c.stride_h = c.stride_w = stride;
  c.pad_h = c.pad_w = padding;
  c.output_pad_h = c.output_pad_w = output_padding;
  c.weight = w.get("weight", {in, out, kernel, kernel});
  if (bias) c.bias = w.get("bias", {out});
  return c;
}

Tensor ConvTranspose2d::forward(const Tensor& x) const {
  IA_CHECK(x.rank() == 4 && x.dim(1) == in_channels, "conv_transpose2d: input ", shape_str(x.shape()),
           " must be [B, ", in_channels, ", H, W]");
  const int64_t B = x.dim(0), H = x.dim(2), W = x.dim(3), Ho = out_h(H), Wo = out_w(W);
  IA_CHECK(Ho > 0 && Wo > 0, "conv_transpose2d: empty output");
  const int64_t kk = out_channels * kernel_h * kernel_w, P = H * W;
  // col[(o, i, j), p] = sum_c weight[c, (o, i, j)] * x[c, p], then scattered (col2im) into the output.
  std::vector<float> wt(size_t(kk * in_channels));
  for (int64_t c = 0; c < in_channels; ++c)
    for (int64_t r = 0; r < kk; ++r) wt[size_t(r * in_channels + c)] = weight.f32()[c * kk + r];
  std::vector<float> col(size_t(kk * P));
  Tensor y = Tensor::zeros(DType::F32, {B, out_channels, Ho, Wo});
  for (int64_t b = 0; b < B; ++b) {
    cpu::gemm_nn(kk, P, in_channels, wt.data(), in_channels, x.f32() + b * in_channels * P, P, col.data(), P);
    float* yb = y.f32() + b * out_channels * Ho * Wo;
#pragma omp parallel for schedule(static) if (kk * P > 65536)
    for (int64_t o = 0; o < out_channels; ++o) {
      float* yo = yb + o * Ho * Wo;
      for (int64_t i = 0; i < kernel_h; ++i)
        for (int64_t j = 0; j < kernel_w; ++j) {
          const float* src = col.data() + ((o * kernel_h + i) * kernel_w + j) * P;
          for (int64_t h = 0; h < H; ++h) {
            const int64_t oh = h * stride_h - pad_h + i;
            if (oh < 0 || oh >= Ho) continue;
            for (int64_t w = 0; w < W; ++w) {
              const int64_t ow = w * stride_w - pad_w + j;
              if (ow >= 0 && ow < Wo) yo[oh * Wo + ow] += src[h * W + w];
            }
          }
        }
      if (bias.defined()) {
        const float bv = bias.f32()[o];
        for (int64_t p = 0; p < Ho * Wo; ++p) yo[p] += bv;
      }
    }
  }
  return y;
}

Tensor conv2d_reference(const Tensor& x, const Conv2d& c) {
  const Conv2dSpec& s = c.spec;
  const int64_t B = x.dim(0), H = x.dim(2), W = x.dim(3), Ho = c.out_h(H), Wo = c.out_w(W);
  const int64_t cin_g = s.in_channels / s.groups, cout_g = s.out_channels / s.groups;
  Tensor y = Tensor::f32({B, s.out_channels, Ho, Wo});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t o = 0; o < s.out_channels; ++o) {
      const int64_t g = o / cout_g;
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double acc = c.bias.defined() ? c.bias.f32()[o] : 0.0;
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t i = 0; i < s.kernel_h; ++i)
              for (int64_t j = 0; j < s.kernel_w; ++j) {
                const int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
                const int64_t iw = ow * s.stride_w - s.pad_w + j * s.dilation_w;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += double(c.weight.f32()[((o * cin_g + ci) * s.kernel_h + i) * s.kernel_w + j]) *
                       x.f32()[((b * s.in_channels + g * cin_g + ci) * H + ih) * W + iw];
              }
          y.f32()[((b * s.out_channels + o) * Ho + oh) * Wo + ow] = float(acc);
        }
    }
  return y;
}

Tensor conv_transpose2d_reference(const Tensor& x, const ConvTranspose2d& c) {
  const int64_t B = x.dim(0), H = x.dim(2), W = x.dim(3), Ho = c.out_h(H), Wo = c.out_w(W);
  std::vector<double> acc(size_t(B * c.out_channels * Ho * Wo), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t ci = 0; ci < c.in_channels; ++ci)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const double xv = x.f32()[((b * c.in_channels + ci) * H + h) * W + w];
          for (int64_t o = 0; o < c.out_channels; ++o)
            for (int64_t i = 0; i < c.kernel_h; ++i)
              for (int64_t j = 0; j < c.kernel_w; ++j) {
                const int64_t oh = h * c.stride_h - c.pad_h + i, ow = w * c.stride_w - c.pad_w + j;
                if (oh < 0 || oh >= Ho || ow < 0 || ow >= Wo) continue;
                acc[size_t(((b * c.out_channels + o) * Ho + oh) * Wo + ow)] +=
                    xv * c.weight.f32()[((ci * c.out_channels + o) * c.kernel_h + i) * c.kernel_w + j];
              }
        }
  Tensor y = Tensor::f32({B, c.out_channels, Ho, Wo});
  for (size_t k = 0; k < acc.size(); ++k) {
    const int64_t o = int64_t(k / size_t(Ho * Wo)) % c.out_channels;
    y.f32()[k] = float(acc[k] + (c.bias.defined() ? c.bias.f32()[o] : 0.f));
  }
  return y;
}

}  // namespace ia
