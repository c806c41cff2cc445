// Diffusion U-Net / VAE parts against direct reference computations: GroupNorm,
// sinusoidal timestep embedding, nearest upsampling (x2 and odd explicit sizes),
// right/bottom padded downsampling, chunked attention.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "parts/diffusers_attention.h"
#include "parts/group_norm.h"
#include "parts/nchw_layout.h"
#include "parts/resample_2d.h"
#include "parts/timestep_embedding.h"

namespace ia {
namespace {

Tensor random_tensor(Shape s, uint32_t seed, float scale = 1.f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> n(0.f, scale);
  Tensor t = Tensor::f32(std::move(s));
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = n(g);
  return t;
}

TEST(DiffusionGroupNorm, MatchesDirectStatisticsPerGroup) {
  const int64_t B = 2, C = 6, G = 3, HW = 5;
  Tensor x = random_tensor({B, C, 1, HW}, 1, 3.f);
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] += 7.f;  // an offset the variance must not see
  Tensor w = random_tensor({C}, 2), b = random_tensor({C}, 3);
  GroupNorm gn = GroupNorm::from(G, 1e-5f, w, b);
  Tensor y = gn.forward(x);
  Tensor ys = gn.forward(x, cpu::Act::Silu);
  const int64_t cpg = C / G;
  for (int64_t bb = 0; bb < B; ++bb)
    for (int64_t g = 0; g < G; ++g) {
      double mean = 0, var = 0;
      for (int64_t c = 0; c < cpg; ++c)
        for (int64_t i = 0; i < HW; ++i) mean += x.f32()[(bb * C + g * cpg + c) * HW + i];
      mean /= double(cpg * HW);
      for (int64_t c = 0; c < cpg; ++c)
        for (int64_t i = 0; i < HW; ++i) {
          const double d = x.f32()[(bb * C + g * cpg + c) * HW + i] - mean;
          var += d * d;
        }
      var /= double(cpg * HW);
      for (int64_t c = 0; c < cpg; ++c) {
        const int64_t ch = g * cpg + c;
        for (int64_t i = 0; i < HW; ++i) {
          const int64_t at = (bb * C + ch) * HW + i;
          const double want = (x.f32()[at] - mean) / std::sqrt(var + 1e-5) * w.f32()[ch] + b.f32()[ch];
          EXPECT_NEAR(y.f32()[at], want, 1e-5);
          EXPECT_NEAR(ys.f32()[at], want / (1.0 + std::exp(-want)), 1e-5);
        }
      }
    }
}

TEST(DiffusionGroupNorm, RejectsGroupsThatDoNotDivideChannels) {
  EXPECT_THROW(GroupNorm::from(4, 1e-6f, Tensor::zeros(DType::F32, {6}), Tensor()), Error);
  GroupNorm gn = GroupNorm::from(2, 1e-6f, Tensor::zeros(DType::F32, {6}), Tensor());
  EXPECT_THROW(gn.forward(Tensor::zeros(DType::F32, {1, 4, 2, 2})), Error);
}

TEST(DiffusionTimestepEmbedding, SinCosHalvesFlipShiftAndOddPadding) {
  // dim 4: half 2, frequencies exp(-ln(1e4) * i / 2) = {1, 0.01}.
  Tensor e = sinusoidal_timestep_embedding({2.f}, 4, false, 0.0);
  ASSERT_EQ(e.shape(), Shape({1, 4}));
  EXPECT_NEAR(e.f32()[0], std::sin(2.0), 1e-6);
  EXPECT_NEAR(e.f32()[1], std::sin(0.02), 1e-6);
  EXPECT_NEAR(e.f32()[2], std::cos(2.0), 1e-6);
  EXPECT_NEAR(e.f32()[3], std::cos(0.02), 1e-6);
  Tensor f = sinusoidal_timestep_embedding({2.f}, 4, true, 0.0);
  EXPECT_NEAR(f.f32()[0], std::cos(2.0), 1e-6);
  EXPECT_NEAR(f.f32()[3], std::sin(0.02), 1e-6);
  // freq_shift 1: frequencies exp(-ln(1e4) * i / (half - 1)), here {1, 1e-4, 1e-8} for dim 6.
  Tensor s = sinusoidal_timestep_embedding({500.f}, 6, false, 1.0);
  EXPECT_NEAR(s.f32()[1], std::sin(500.0 * 1e-2), 1e-5);
  EXPECT_NEAR(s.f32()[2], std::sin(500.0 * 1e-4), 1e-6);
  // Odd dim: one zero column at the end; several timesteps, one row each.
  Tensor o = sinusoidal_timestep_embedding({0.f, 10.f}, 5, true, 0.0);
  ASSERT_EQ(o.shape(), Shape({2, 5}));
  EXPECT_EQ(o.f32()[4], 0.f);
  EXPECT_EQ(o.f32()[9], 0.f);
  EXPECT_NEAR(o.f32()[0], 1.f, 1e-7);           // cos(0)
  EXPECT_NEAR(o.f32()[5], std::cos(10.0), 1e-6);
}

TEST(DiffusionTimestepEmbedding, GaussianFourierProjection) {
  const Tensor w = Tensor::from_vector({0.5f, -2.f}, {2});
  Tensor e = gaussian_fourier_embedding({0.25f}, w, false);
  ASSERT_EQ(e.shape(), Shape({1, 4}));
  const double pi = 3.14159265358979323846;
  EXPECT_NEAR(e.f32()[0], std::sin(0.25 * 0.5 * 2 * pi), 1e-6);
  EXPECT_NEAR(e.f32()[1], std::sin(0.25 * -2.0 * 2 * pi), 1e-6);
  EXPECT_NEAR(e.f32()[2], std::cos(0.25 * 0.5 * 2 * pi), 1e-6);
  Tensor f = gaussian_fourier_embedding({0.25f}, w, true);
  EXPECT_EQ(f.f32()[0], e.f32()[2]);
  EXPECT_EQ(f.f32()[3], e.f32()[1]);
  EXPECT_THROW(gaussian_fourier_embedding({1.f}, Tensor(), false), Error);
}

TEST(DiffusionTimestepEmbedding, ActivationNamesFollowDiffusers) {
  EXPECT_EQ(diffusers_activation("SiLU", "t"), cpu::Act::Silu);
  EXPECT_EQ(diffusers_activation("swish", "t"), cpu::Act::Silu);
  EXPECT_EQ(diffusers_activation("gelu", "t"), cpu::Act::GeluExact);
  EXPECT_EQ(diffusers_activation("mish", "t"), cpu::Act::Mish);
  try {
    diffusers_activation("tanh", "unet/config.json: act_fn");
    FAIL() << "tanh accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("act_fn"), std::string::npos) << e.what();
  }
}

TEST(DiffusionResample, NearestUpsampleDoublesAndHitsOddSizes) {
  Tensor x = Tensor::f32({1, 1, 3, 3});
  for (int i = 0; i < 9; ++i) x.f32()[i] = float(i);
  Tensor y = upsample_nearest(x, 6, 6);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) EXPECT_EQ(y.f32()[i * 6 + j], float((i / 2) * 3 + j / 2));
  // Explicit odd output (diffusers' upsample_size): source floor(dst * in / out).
  Tensor z = upsample_nearest(x, 5, 7);
  ASSERT_EQ(z.shape(), Shape({1, 1, 5, 7}));
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 7; ++j)
      EXPECT_EQ(z.f32()[i * 7 + j], float(int(i * 3.f / 5.f) * 3 + int(j * 3.f / 7.f))) << i << "," << j;
}

TEST(DiffusionResample, DownsamplePaddingZeroPadsRightAndBottomOnly) {
  Tensor x = Tensor::f32({1, 1, 2, 3});
  for (int i = 0; i < 6; ++i) x.f32()[i] = float(i + 1);
  Tensor p = pad_right_bottom(x, 1, 1);
  ASSERT_EQ(p.shape(), Shape({1, 1, 3, 4}));
  const float want[12] = {1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(p.f32()[i], want[i]);
  // A stride-2 3x3 conv of ones after that padding sums each window of the padded map.
  Downsample2D d;
  d.channels = 1;
  d.padding = 0;
  Conv2dSpec s;
  s.in_channels = s.out_channels = 1;
  s.kernel_h = s.kernel_w = 3;
  s.stride_h = s.stride_w = 2;
  s.bias = false;
  Tensor ones = Tensor::f32({1, 1, 3, 3});
  for (int i = 0; i < 9; ++i) ones.f32()[i] = 1.f;
  d.conv = Conv2d::from(s, ones, Tensor());
  Tensor y = d.forward(x);
  ASSERT_EQ(y.shape(), Shape({1, 1, 1, 1}));
  EXPECT_EQ(y.f32()[0], 21.f);
  Tensor a = avg_pool_2x2(Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 2, 4}));
  ASSERT_EQ(a.shape(), Shape({1, 1, 1, 2}));
  EXPECT_EQ(a.f32()[0], 3.5f);
  EXPECT_EQ(a.f32()[1], 5.5f);
}

TEST(DiffusionLayout, TokensRoundTripAndConcat) {
  Tensor x = random_tensor({2, 3, 2, 5}, 9);
  Tensor t = nchw_to_tokens(x);
  ASSERT_EQ(t.shape(), Shape({2, 10, 3}));
  EXPECT_EQ(t.f32()[(1 * 10 + 7) * 3 + 2], x.f32()[(1 * 3 + 2) * 10 + 7]);
  Tensor back = tokens_to_nchw(t, 2, 5);
  for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(back.f32()[i], x.f32()[i]);
  Tensor c = concat_channels(x, random_tensor({2, 1, 2, 5}, 10));
  ASSERT_EQ(c.shape(), Shape({2, 4, 2, 5}));
  EXPECT_EQ(c.f32()[(1 * 4 + 2) * 10 + 3], x.f32()[(1 * 3 + 2) * 10 + 3]);
  EXPECT_THROW(concat_channels(x, Tensor::f32({2, 1, 2, 4})), Error);
}

TEST(DiffusionAttention, ChunkedMatchesDirectSoftmax) {
  const int64_t B = 2, Tq = 7, Tk = 5, H = 2, D = 3, HD = H * D;
  Tensor q = random_tensor({B, Tq, HD}, 11), k = random_tensor({B, Tk, HD}, 12), v = random_tensor({B, Tk, HD}, 13);
  const float scale = 1.f / std::sqrt(float(D));
  for (int64_t max_scores : {int64_t(1) << 20, Tk * 2, int64_t(1)}) {  // one chunk, 2-row chunks, 1-row chunks
    Tensor o = Tensor::f32({B, Tq, HD});
    sdpa_chunked(B, Tq, Tk, H, D, scale, q.f32(), HD, k.f32(), HD, v.f32(), HD, o.f32(), HD, max_scores);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < Tq; ++i) {
          std::vector<double> p(static_cast<size_t>(Tk));
          double mx = -1e30, sum = 0;
          for (int64_t j = 0; j < Tk; ++j) {
            double s = 0;
            for (int64_t d = 0; d < D; ++d) s += q.f32()[(b * Tq + i) * HD + h * D + d] * k.f32()[(b * Tk + j) * HD + h * D + d];
            p[size_t(j)] = s * scale;
            mx = std::max(mx, p[size_t(j)]);
          }
          for (auto& e : p) sum += (e = std::exp(e - mx));
          for (int64_t d = 0; d < D; ++d) {
            double want = 0;
            for (int64_t j = 0; j < Tk; ++j) want += p[size_t(j)] / sum * v.f32()[(b * Tk + j) * HD + h * D + d];
            EXPECT_NEAR(o.f32()[(b * Tq + i) * HD + h * D + d], want, 1e-5) << "max_scores " << max_scores;
          }
        }
  }
}

}  // namespace
}  // namespace ia
