// Conv1d / Conv2d / ConvTranspose2d (im2col + GEMM) against direct loops, over
// strides, padding, dilation, groups and pointwise kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels_test_util.h"
#include "parts/conv.h"

namespace ia {
namespace {

Tensor randt(Shape s, uint32_t seed) {
  Tensor t = Tensor::f32(s);
  auto v = test::randn(size_t(t.numel()), seed, 0.5f);
  std::copy(v.begin(), v.end(), t.f32());
  return t;
}

float max_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.f32()[i] - b.f32()[i]));
  return m;
}

TEST(KernelsConv, Conv2dMatchesDirectLoops) {
  struct Case {
    int64_t cin, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups, H, W;
    bool bias;
  };
  const Case cases[] = {
      {3, 8, 4, 4, 4, 4, 0, 0, 1, 1, 1, 16, 12, true},   // patch embedding (stride = kernel)
      {4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 9, 7, true},     // same-padding 3x3
      {4, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2, 9, 8, false},    // strided, grouped
      {5, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1, 6, 6, true},     // pointwise (no im2col)
      {2, 4, 3, 2, 1, 2, 2, 1, 2, 1, 2, 7, 9, true},     // dilation, asymmetric everything
      {6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6, 5, 5, true},     // depthwise
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    Conv2dSpec s{c.cin, c.cout, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, c.bias};
    Tensor w = randt({c.cout, c.cin / c.groups, c.kh, c.kw}, seed++);
    Tensor b = c.bias ? randt({c.cout}, seed++) : Tensor();
    Conv2d conv = Conv2d::from(s, w, b);
    Tensor x = randt({2, c.cin, c.H, c.W}, seed++);
    EXPECT_LT(max_diff(conv.forward(x), conv2d_reference(x, conv)), 1e-4f) << "case kernel " << c.kh << "x" << c.kw;
  }
}

TEST(KernelsConv, Conv1dIsConv2dWithUnitHeight) {
  Tensor w = randt({6, 4, 3}, 7), b = randt({6}, 8);
  Conv1d c = Conv1d::from(w, b, /*stride=*/2, /*padding=*/1);
  Tensor x = randt({2, 4, 11}, 9);
  Tensor y = c.forward(x);
  ASSERT_EQ(y.shape(), Shape({2, 6, 6}));
  // y[b, o, t] = b[o] + sum_{c,k} w[o, c, k] * x[b, c, 2t - 1 + k]
  for (int64_t bb = 0; bb < 2; ++bb)
    for (int64_t o = 0; o < 6; ++o)
      for (int64_t t = 0; t < 6; ++t) {
        double acc = b.f32()[o];
        for (int64_t ci = 0; ci < 4; ++ci)
          for (int64_t k = 0; k < 3; ++k) {
            const int64_t it = 2 * t - 1 + k;
            if (it >= 0 && it < 11) acc += w.f32()[(o * 4 + ci) * 3 + k] * x.f32()[(bb * 4 + ci) * 11 + it];
          }
        EXPECT_NEAR(y.f32()[(bb * 6 + o) * 6 + t], acc, 1e-4);
      }
}

TEST(KernelsConv, ConvTranspose2dMatchesDirectLoops) {
  for (auto [k, s, p, op] : {std::tuple{2, 2, 0, 0}, {3, 2, 1, 1}, {4, 1, 0, 0}, {3, 3, 1, 0}}) {
    ConvTranspose2d c;
    c.in_channels = 3;
    c.out_channels = 5;
    c.kernel_h = c.kernel_w = k;
    c.stride_h = c.stride_w = s;
    c.pad_h = c.pad_w = p;
    c.output_pad_h = c.output_pad_w = op;
    c.weight = randt({3, 5, k, k}, 20 + k);
    c.bias = randt({5}, 30 + k);
    Tensor x = randt({2, 3, 4, 5}, 40 + k);
    EXPECT_LT(max_diff(c.forward(x), conv_transpose2d_reference(x, c)), 1e-4f) << "kernel " << k << " stride " << s;
  }
}

TEST(KernelsConv, RejectsBadShapes) {
  Conv2dSpec s{3, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1, true};
  Conv2d conv = Conv2d::from(s, randt({4, 3, 3, 3}, 1), randt({4}, 2));
  EXPECT_THROW(conv.forward(randt({1, 2, 5, 5}, 3)), Error);   // wrong channels
  EXPECT_THROW(conv.forward(randt({1, 3, 2, 2}, 3)), Error);   // smaller than the kernel
  Conv2dSpec bad = s;
  bad.groups = 2;  // 3 input channels cannot split into 2 groups
  EXPECT_THROW(Conv2d::from(bad, randt({4, 1, 3, 3}, 1), Tensor()), Error);
}

}  // namespace
}  // namespace ia
