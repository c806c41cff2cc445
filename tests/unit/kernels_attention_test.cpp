// attention() against a direct double-precision implementation of the
// semantics documented in parts/attention.h, one feature at a time. Decode shapes
// (one query) also run attention_generic() and attention_decode_heads() over
// uneven splits of the heads, the way decode steps split them across threads.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "kernels_test_util.h"
#include "parts/attention.h"
#include "parts/kv_cache.h"

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

enum class Entry { Dispatch, Generic, DecodeHeads };

// Runs attention() on row-padded buffers and compares with the naive result.
void run_entry(const Case& c, Entry entry) {
  SCOPED_TRACE(std::string(c.name) + (entry == Entry::Dispatch ? "" : entry == Entry::Generic ? " (generic)" : " (decode heads)"));
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
  if (entry == Entry::Dispatch) {
    attention(s, a);
  } else if (entry == Entry::Generic) {
    attention_generic(s, a);
  } else {  // three uneven head ranges (one may be empty), as threads would take them
    const int64_t cut1 = c.H / 3, cut2 = c.H - 1;
    attention_decode_heads(s, a, 0, cut1);
    attention_decode_heads(s, a, cut1, cut2);
    attention_decode_heads(s, a, cut2, c.H);
  }

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

void run(const Case& c) {
  run_entry(c, Entry::Dispatch);
  run_entry(c, Entry::DecodeHeads);
  if (c.Tq == 1) run_entry(c, Entry::Generic);
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

// One query against a cache: the decode kernels (position-major walks with prefetch, SIMD
// bodies with scalar tails) for head sizes with and without a tail, every grouping,
// padding masks, windows, ALiBi and soft-capping, and long caches.
TEST(KernelsAttention, DecodeOneQuery) {
  run({.name = "decode mha", .B = 2, .Tq = 1, .Tk = 37, .H = 6, .Hkv = 6, .D = 64, .q_pos0 = 36, .causal = true});
  run({.name = "decode gqa", .B = 3, .Tq = 1, .Tk = 50, .H = 8, .Hkv = 2, .D = 80, .q_pos0 = 49, .causal = true});
  run({.name = "decode mqa tail", .B = 1, .Tq = 1, .Tk = 9, .H = 5, .Hkv = 1, .D = 20, .q_pos0 = 8, .causal = true});
  run({.name = "decode tiny head", .B = 2, .Tq = 1, .Tk = 6, .H = 3, .Hkv = 3, .D = 3, .q_pos0 = 5, .causal = true});
  run({.name = "decode dv", .B = 2, .Tq = 1, .Tk = 12, .H = 4, .Hkv = 2, .D = 24, .Dv = 40, .q_pos0 = 11});
  run({.name = "decode pad", .B = 2, .Tq = 1, .Tk = 11, .H = 4, .Hkv = 4, .D = 32, .q_pos0 = 10, .causal = true,
       .key_mask = true});
  run({.name = "decode all masked", .B = 2, .Tq = 1, .Tk = 7, .D = 16, .q_pos0 = 6, .mask_all_b1 = true});
  run({.name = "decode window", .B = 2, .Tq = 1, .Tk = 30, .H = 4, .Hkv = 2, .D = 16, .q_pos0 = 29, .causal = true,
       .window = 7});
  run({.name = "decode alibi", .B = 2, .Tq = 1, .Tk = 25, .H = 6, .Hkv = 6, .D = 16, .q_pos0 = 24, .causal = true,
       .alibi = true, .alibi_pos = true});
  run({.name = "decode softcap", .B = 1, .Tq = 1, .Tk = 40, .H = 4, .Hkv = 4, .D = 48, .q_pos0 = 39, .causal = true,
       .softcap = 3.f, .scale = 1.f});
  run({.name = "decode long", .B = 1, .Tq = 1, .Tk = 700, .H = 4, .Hkv = 2, .D = 64, .q_pos0 = 699, .causal = true,
       .scale = 0.125f});
  run({.name = "decode bias (generic path)", .B = 2, .Tq = 1, .Tk = 8, .q_pos0 = 7, .causal = true, .bias = 2});
}

// The cache blocks: small caches in an ordinary allocation, large ones (>= 4 MiB) in
// 2 MiB pages; both keep every layer's rows apart and survive a reorder and a regrow.
TEST(KVCacheTest, SmallAndHugeBlocksKeepRows) {
  for (int64_t capacity : {8, 4096}) {  // 2 layers x 2 rows x 4096 x (64 + 48) floats = 7 MiB: huge pages
    SCOPED_TRACE(capacity);
    KVCache c;
    const int64_t L = 2, B = 2, kd = 64, vd = 48;
    c.reset(L, B, capacity, kd, vd);
    ASSERT_EQ(c.capacity(), capacity);
    auto k = test::randn(size_t(B * 3 * kd), 11), v = test::randn(size_t(B * 3 * vd), 12);
    for (int64_t l = 0; l < L; ++l) c.write(l, 3, k.data(), kd, v.data(), vd);
    c.append_mask(3, nullptr);
    c.advance(3);
    // One decode step written in two column slices, as two threads would.
    auto k1 = test::randn(size_t(B * kd), 13), v1 = test::randn(size_t(B * vd), 14);
    for (int64_t l = 0; l < L; ++l) {
      c.write_step_cols(l, k1.data(), kd, 0, 16, v1.data(), vd, 0, 32);
      c.write_step_cols(l, k1.data(), kd, 16, kd, v1.data(), vd, 32, vd);
    }
    c.append_mask(1, nullptr);
    c.advance(1);
    for (int64_t l = 0; l < L; ++l)
      for (int64_t b = 0; b < B; ++b) {
        const float* kb = c.keys(l) + b * c.k_batch_stride();
        const float* vb = c.values(l) + b * c.v_batch_stride();
        ASSERT_EQ(std::memcmp(kb, k.data() + b * 3 * kd, size_t(3 * kd) * 4), 0);
        ASSERT_EQ(std::memcmp(vb, v.data() + b * 3 * vd, size_t(3 * vd) * 4), 0);
        ASSERT_EQ(std::memcmp(kb + 3 * kd, k1.data() + b * kd, size_t(kd) * 4), 0);
        ASSERT_EQ(std::memcmp(vb + 3 * vd, v1.data() + b * vd, size_t(vd) * 4), 0);
      }
    const int64_t swap[2] = {1, 0};
    c.reorder_rows(swap);
    for (int64_t l = 0; l < L; ++l) {
      ASSERT_EQ(std::memcmp(c.keys(l), k.data() + 3 * kd, size_t(3 * kd) * 4), 0);
      ASSERT_EQ(std::memcmp(c.values(l) + c.v_batch_stride(), v.data(), size_t(3 * vd) * 4), 0);
    }
    c.reset(L + 1, B, capacity * 2, kd, vd);  // regrow
    c.write(L, 1, k.data(), kd, v.data(), vd);
    ASSERT_EQ(std::memcmp(c.keys(L), k.data(), size_t(kd) * 4), 0);
    ASSERT_EQ(std::memcmp(c.values(L), v.data(), size_t(vd) * 4), 0);
    EXPECT_THROW(c.write(0, capacity * 2 + 1, k.data(), 0, v.data(), 0), Error);
  }
}

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
