// attention() against a direct double-precision implementation of the
// semantics documented in parts/attention.h, one feature at a time.
#include <gtest/gtest.h>

#include "core/error.h"
#include "kernels_test_util.h"
#include "parts/attention.h"

namespace ia {
namespace {

struct Case {
  const char* name;
  int64_t B = 2, Tq = 5, Tk = 5, H = 4, Hkv = 4, D = 8, Dv = 0;
  int64_t q_pos0 = 0;
  bool causal = false;
  int64_t window = 0;
  float softcap = 0.f;
  float scale = 0.35f;
  bool key_mask = false;      // batch 1 gets two left-padding keys, batch 0 none
  bool mask_all_b1 = false;   // batch 1 has no valid keys at all
  int bias = 0;               // 0 none, 1 broadcast over batch, 2 per batch
  bool alibi = false;
  bool alibi_pos = false;
};

// Runs attention() on row-padded buffers and compares with the naive result.
void run(const Case& c) {
  SCOPED_TRACE(c.name);
  const int64_t Dv = c.Dv ? c.Dv : c.D;
  const int64_t qr = c.H * c.D + 3, kr = c.Hkv * c.D + 1, vr = c.Hkv * Dv + 2, orow = c.H * Dv + 5;
  auto q = test::randn(size_t(c.B * c.Tq * qr), 1, 1.5f);
  auto k = test::randn(size_t(c.B * c.Tk * kr), 2, 1.5f);
  auto v = test::randn(size_t(c.B * c.Tk * vr), 3);
  std::vector<int64_t> mask(size_t(c.B * c.Tk), 1);
  if (c.key_mask) mask[size_t(c.Tk)] = mask[size_t(c.Tk + 1)] = 0;
  if (c.mask_all_b1) std::fill(mask.begin() + c.Tk, mask.end(), 0);
  const int64_t bias_b = c.bias == 2 ? c.H * c.Tq * c.Tk : 0;
  auto bias = test::randn(size_t((c.bias == 2 ? c.B : 1) * c.H * c.Tq * c.Tk), 4);
  std::vector<float> slopes(size_t(c.H));
  for (int64_t h = 0; h < c.H; ++h) slopes[size_t(h)] = -std::pow(2.f, -8.f * float(h + 1) / float(c.H));
  std::vector<float> apos(size_t(c.B * c.Tk));
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t j = 0; j < c.Tk; ++j) apos[size_t(b * c.Tk + j)] = float(j - 2 * b);

  AttentionSpec s;
  s.n_heads = c.H;
  s.n_kv_heads = c.Hkv;
  s.head_dim = c.D;
  s.v_head_dim = c.Dv;
  s.scale = c.scale;
  s.causal = c.causal;
  s.sliding_window = c.window;
  s.softcap = c.softcap;
  s.alibi_slopes = c.alibi ? slopes.data() : nullptr;
  AttentionArgs a;
  a.B = c.B;
  a.Tq = c.Tq;
  a.Tk = c.Tk;
  a.q = q.data(), a.q_row = qr, a.q_batch = c.Tq * qr;
  a.k = k.data(), a.k_row = kr, a.k_batch = c.Tk * kr;
  a.v = v.data(), a.v_row = vr, a.v_batch = c.Tk * vr;
  std::vector<float> out(size_t(c.B * c.Tq * orow), -7.f);
  a.out = out.data(), a.out_row = orow, a.out_batch = c.Tq * orow;
  if (c.key_mask || c.mask_all_b1) a.key_mask = mask.data(), a.key_mask_batch = c.Tk;
  a.q_pos0 = c.q_pos0;
  if (c.bias) a.bias = bias.data(), a.bias_batch = bias_b;
  if (c.alibi_pos) a.alibi_pos = apos.data(), a.alibi_pos_batch = c.Tk;
  attention(s, a);

  const int64_t group = c.H / c.Hkv;
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t i = 0; i < c.Tq; ++i) {
        const int64_t qpos = c.q_pos0 + i, hk = h / group;
        std::vector<double> sc(size_t(c.Tk));
        std::vector<bool> ok(size_t(c.Tk));
        double mx = -INFINITY;
        for (int64_t j = 0; j < c.Tk; ++j) {
          bool m = (c.causal && j > qpos) || (a.key_mask && mask[size_t(b * c.Tk + j)] == 0) ||
                   (c.window > 0 && qpos - j >= c.window);
          ok[size_t(j)] = !m;
          if (m) continue;
          double dot = 0;
          for (int64_t d = 0; d < c.D; ++d)
            dot += double(q[size_t(b * c.Tq * qr + i * qr + h * c.D + d)]) * k[size_t(b * c.Tk * kr + j * kr + hk * c.D + d)];
          double x = dot * c.scale;
          if (c.softcap > 0) x = c.softcap * std::tanh(x / c.softcap);
          if (c.bias) x += bias[size_t(b * bias_b + (h * c.Tq + i) * c.Tk + j)];
          if (c.alibi) x += slopes[size_t(h)] * (c.alibi_pos ? apos[size_t(b * c.Tk + j)] : double(j));
          sc[size_t(j)] = x;
          mx = std::max(mx, x);
        }
        double sum = 0;
        for (int64_t j = 0; j < c.Tk; ++j)
          if (ok[size_t(j)]) sum += std::exp(sc[size_t(j)] - mx);
        for (int64_t d = 0; d < Dv; ++d) {
          double want = 0;
          for (int64_t j = 0; j < c.Tk; ++j)
            if (ok[size_t(j)]) want += std::exp(sc[size_t(j)] - mx) / sum * v[size_t(b * c.Tk * vr + j * vr + hk * Dv + d)];
          float got = out[size_t(b * c.Tq * orow + i * orow + h * Dv + d)];
          ASSERT_NEAR(got, want, 2e-5 + 2e-5 * std::fabs(want)) << "b=" << b << " h=" << h << " i=" << i << " d=" << d;
        }
      }
  // Row padding beyond n_heads * v_head_dim is never written.
  for (int64_t r = 0; r < c.B * c.Tq; ++r)
    for (int64_t p = c.H * Dv; p < orow; ++p) ASSERT_EQ(out[size_t(r * orow + p)], -7.f);
}

TEST(KernelsAttention, MultiHead) { run({.name = "mha"}); }
TEST(KernelsAttention, GroupedQuery) { run({.name = "gqa", .H = 6, .Hkv = 2}); }
TEST(KernelsAttention, MultiQuery) { run({.name = "mqa", .H = 4, .Hkv = 1, .causal = true}); }
TEST(KernelsAttention, Causal) { run({.name = "causal", .Tq = 6, .Tk = 6, .causal = true}); }
TEST(KernelsAttention, CausalWithCacheOffset) {
  run({.name = "offset", .Tq = 3, .Tk = 8, .q_pos0 = 5, .causal = true});
  run({.name = "decode", .Tq = 1, .Tk = 9, .q_pos0 = 8, .causal = true});
}
TEST(KernelsAttention, KeyPaddingMask) {
  run({.name = "pad", .key_mask = true});
  run({.name = "pad+causal", .Tq = 6, .Tk = 6, .causal = true, .key_mask = true});
}
TEST(KernelsAttention, FullyMaskedRowIsZero) { run({.name = "all masked", .mask_all_b1 = true}); }
TEST(KernelsAttention, SlidingWindow) {
  run({.name = "window", .Tq = 8, .Tk = 8, .causal = true, .window = 3});
  run({.name = "window+offset", .Tq = 2, .Tk = 10, .q_pos0 = 8, .causal = true, .window = 4});
}
TEST(KernelsAttention, Alibi) {
  run({.name = "alibi", .Tq = 6, .Tk = 6, .causal = true, .alibi = true});
  run({.name = "alibi pos", .Tq = 6, .Tk = 6, .alibi = true, .alibi_pos = true});
}
TEST(KernelsAttention, Softcap) { run({.name = "softcap", .softcap = 2.f, .scale = 1.f}); }
TEST(KernelsAttention, AdditiveBias) {
  run({.name = "bias broadcast", .bias = 1});
  run({.name = "bias per batch", .Tq = 3, .Tk = 7, .q_pos0 = 4, .causal = true, .bias = 2});
}
TEST(KernelsAttention, DifferentValueHeadDim) { run({.name = "dv", .H = 4, .Hkv = 2, .D = 6, .Dv = 10}); }
TEST(KernelsAttention, LargeEnoughToThread) { run({.name = "big", .B = 2, .Tq = 40, .Tk = 40, .H = 8, .Hkv = 2, .D = 32, .causal = true}); }

TEST(KernelsAttention, RejectsBadHeadCounts) {
  AttentionSpec s;
  s.n_heads = 6;
  s.n_kv_heads = 4;
  s.head_dim = 8;
  EXPECT_THROW(attention(s, AttentionArgs{}), Error);
  s.n_kv_heads = 0;
  EXPECT_THROW(attention(s, AttentionArgs{}), Error);
}

}  // namespace
}  // namespace ia
