// Dense convolutions over NCHW / NCT activations (torch.nn.Conv1d, Conv2d,
// ConvTranspose2d), as used by patch embeddings, audio feature stacks, U-Nets
// and mask decoders. im2col + GEMM: each output plane of a group is one matrix
// product, so the work runs in the packed GEMM kernel.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "parts/weights.h"

namespace ia {

struct Conv2dSpec {
  int64_t in_channels = 0, out_channels = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  bool bias = true;
};

struct Conv2d {
  Conv2dSpec spec;
  Tensor weight;  // [out, in / groups, kh, kw] F32
  Tensor bias;    // [out] or undefined

  // `w` is the module (reads "weight" and, if spec.bias, "bias"); shapes are checked.
  static Conv2d load(const Weights& w, const Conv2dSpec& spec);
  // Takes an already materialised weight (e.g. a weight-normalised one).
  static Conv2d from(const Conv2dSpec& spec, Tensor weight, Tensor bias);

  int64_t out_h(int64_t h) const;
  int64_t out_w(int64_t w) const;
  // x [B, in, H, W] -> [B, out, Ho, Wo]
  Tensor forward(const Tensor& x) const;
};

// torch.nn.Conv1d over [B, C, T] (a Conv2d with kernel height 1).
struct Conv1d {
  Conv2d conv;
  static Conv1d load(const Weights& w, int64_t in, int64_t out, int64_t kernel, int64_t stride = 1,
                     int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1, bool bias = true);
  static Conv1d from(Tensor weight /*[out, in/groups, k]*/, Tensor bias, int64_t stride = 1, int64_t padding = 0,
                     int64_t dilation = 1, int64_t groups = 1);
  int64_t out_len(int64_t t) const { return conv.out_w(t); }
  // x [B, in, T] -> [B, out, To]
  Tensor forward(const Tensor& x) const;
};

// torch.nn.ConvTranspose2d (groups = 1, dilation = 1): weight [in, out, kh, kw].
struct ConvTranspose2d {
  int64_t in_channels = 0, out_channels = 0, kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0, output_pad_h = 0, output_pad_w = 0;
  Tensor weight, bias;
  static ConvTranspose2d load(const Weights& w, int64_t in, int64_t out, int64_t kernel, int64_t stride,
                              int64_t padding = 0, int64_t output_padding = 0, bool bias = true);
  int64_t out_h(int64_t h) const { return (h - 1) * stride_h - 2 * pad_h + kernel_h + output_pad_h; }
  int64_t out_w(int64_t w) const { return (w - 1) * stride_w - 2 * pad_w + kernel_w + output_pad_w; }
  // x [B, in, H, W] -> [B, out, Ho, Wo]
  Tensor forward(const Tensor& x) const;
};

// Reference direct convolution (slow, obviously correct) the tests compare against.
Tensor conv2d_reference(const Tensor& x, const Conv2d& c);
Tensor conv_transpose2d_reference(const Tensor& x, const ConvTranspose2d& c);

}  // namespace ia
