// GEMV kernels (both weight layouts, every dtype, 1-4 rows, odd sizes, partial
// column ranges) against their portable versions, and linear_parts (several
// projections side by side, mixed layouts and dtypes, decode and prefill sizes)
// against linear_parts_reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "backends/cpu/gemv.h"
#include "backends/cpu/kernels.h"
#include "core/error.h"
#include "kernels_test_util.h"
#include "parts/nn.h"

namespace ia::cpu {
namespace {

Tensor random_weight(DType dt, int64_t rows, int64_t cols, uint32_t seed) {
  auto v = test::randn(size_t(rows * cols), seed, 0.5f);
  Tensor w = Tensor::empty(dt, {rows, cols});
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::F32) w.f32()[i] = v[i];
    else if (dt == DType::F16) static_cast<uint16_t*>(w.raw())[i] = f32_to_f16(v[i]);
    else static_cast<uint16_t*>(w.raw())[i] = f32_to_bf16(v[i]);
  }
  return w;
}

// Transposed copy of a 2-D weight (same dtype).
Tensor transposed(const Tensor& w) {
  const int64_t r = w.dim(0), c = w.dim(1);
  const size_t es = dtype_size(w.dtype());
  Tensor t = Tensor::empty(w.dtype(), {c, r});
  const auto* s = static_cast<const unsigned char*>(w.raw());
  auto* d = static_cast<unsigned char*>(t.raw());
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) std::memcpy(d + size_t(j * r + i) * es, s + size_t(i * c + j) * es, es);
  return t;
}

TEST(KernelsGemv, SimdMatchesScalarBothLayouts) {
  uint32_t seed = 100;
  for (DType dt : {DType::F32, DType::F16, DType::BF16})
    for (int64_t K : {1, 3, 4, 15, 16, 17, 32, 33, 64, 70, 257})
      for (int64_t N : {1, 5, 16, 19, 64, 1029, 1100})
        for (int64_t M = 1; M <= kGemvMaxRows; ++M) {
          Tensor w = random_weight(dt, N, K, seed++);
          Tensor wt = transposed(w);
          auto x = test::randn(size_t(M * (K + 3)), seed++);
          auto bias = test::randn(size_t(N), seed++);
          // A sub-range as a thread would get it, plus the whole row.
          const int64_t lo = N / 3, hi = N - N / 5;
          for (auto [from, to] : {std::pair<int64_t, int64_t>{0, N}, {lo, hi}})
            for (bool with_bias : {false, true}) {
              const int64_t ldy = N + 2;
              std::vector<float> got_nk(size_t(M * ldy), -7.f), got_kn(size_t(M * ldy), -7.f),
                  want(size_t(M * ldy), -7.f);
              GemvArgs a;
              a.x = x.data();
              a.M = M;
              a.ldx = K + 3;  // padded activation rows
              a.K = K;
              a.dtype = dt;
              a.N = N;
              a.bias = with_bias ? bias.data() : nullptr;
              a.ldy = ldy;
              a.w = w.raw();
              a.y = want.data();
              gemv_nk_scalar(a, from, to);
              a.y = got_nk.data();
              gemv_nk(a, from, to);
              a.w = wt.raw();
              a.y = got_kn.data();
              gemv_kn(a, from, to);
              for (int64_t m = 0; m < M; ++m)
                for (int64_t n = 0; n < ldy; ++n) {
                  const size_t i = size_t(m * ldy + n);
                  if (n < from || n >= to) {  // outside the range: untouched
                    ASSERT_EQ(got_nk[i], -7.f);
                    ASSERT_EQ(got_kn[i], -7.f);
                    continue;
                  }
                  const double tol = 2e-5 * std::sqrt(double(K)) + 1e-5 * std::fabs(want[i]);
                  ASSERT_NEAR(got_nk[i], want[i], tol) << dtype_name(dt) << " NK M=" << M << " K=" << K << " N=" << N
                                                       << " n=" << n;
                  ASSERT_NEAR(got_kn[i], want[i], tol) << dtype_name(dt) << " KN M=" << M << " K=" << K << " N=" << N
                                                       << " n=" << n;
                }
            }
        }
}

// Half-precision rows longer than kShortRowBytes (2 KiB) take other kernel bodies
// (BF16 [out, in]: the even/odd one) and no next-row prefetch.
TEST(KernelsGemv, LongHalfPrecisionRowsMatchScalar) {
  uint32_t seed = 900;
  for (DType dt : {DType::F16, DType::BF16})
    for (int64_t K : {1025, 1031, 2048, 2085})
      for (int64_t N : {5, 19, 37})
        for (int64_t M = 1; M <= kGemvMaxRows; ++M) {
          Tensor w = random_weight(dt, N, K, seed++);
          Tensor wt = transposed(w);
          auto x = test::randn(size_t(M * K), seed++);
          auto bias = test::randn(size_t(N), seed++);
          std::vector<float> got_nk(size_t(M * N)), got_kn(size_t(M * N)), want(size_t(M * N));
          GemvArgs a;
          a.x = x.data();
          a.M = M;
          a.ldx = K;
          a.K = K;
          a.dtype = dt;
          a.N = N;
          a.bias = bias.data();
          a.ldy = N;
          a.w = w.raw();
          a.y = want.data();
          gemv_nk_scalar(a, 0, N);
          a.y = got_nk.data();
          gemv_nk(a, 1, N);  // a thread's range, then the rest
          gemv_nk(a, 0, 1);
          a.w = wt.raw();
          a.y = got_kn.data();
          gemv_kn(a, 0, N);
          for (size_t i = 0; i < want.size(); ++i) {
            const double tol = 2e-5 * std::sqrt(double(K)) + 1e-5 * std::fabs(want[i]);
            ASSERT_NEAR(got_nk[i], want[i], tol) << dtype_name(dt) << " NK M=" << M << " K=" << K << " N=" << N;
            ASSERT_NEAR(got_kn[i], want[i], tol) << dtype_name(dt) << " KN M=" << M << " K=" << K << " N=" << N;
          }
        }
}

TEST(KernelsGemv, ScalarKnMatchesScalarNk) {
  Tensor w = random_weight(DType::F32, 7, 5, 1);
  Tensor wt = transposed(w);
  auto x = test::randn(10, 2);
  std::vector<float> a_out(14), b_out(14);
  GemvArgs a;
  a.x = x.data();
  a.M = 2;
  a.ldx = 5;
  a.K = 5;
  a.N = 7;
  a.ldy = 7;
  a.w = w.raw();
  a.y = a_out.data();
  gemv_nk_scalar(a, 0, 7);
  a.w = wt.raw();
  a.y = b_out.data();
  gemv_kn_scalar(a, 0, 7);
  for (size_t i = 0; i < a_out.size(); ++i) EXPECT_NEAR(a_out[i], b_out[i], 1e-5);
}

TEST(KernelsLinearParts, MixedLayoutsAndDtypesMatchReference) {
  const int64_t K = 67;
  uint32_t seed = 7;
  // q (F32 [out, in]), k (BF16 [in, out]), v (F16 [out, in]) with different widths.
  Tensor q = random_weight(DType::F32, 96, K, seed++);
  Tensor k = transposed(random_weight(DType::BF16, 35, K, seed++));
  Tensor v = random_weight(DType::F16, 35, K, seed++);
  auto bq = test::randn(96, seed++), bv = test::randn(35, seed++);
  LinearPart parts[3] = {{&q, bq.data(), WeightLayout::OutIn}, {&k, nullptr, WeightLayout::InOut},
                         {&v, bv.data(), WeightLayout::OutIn}};
  const int64_t total = 96 + 35 + 35, ldy = total + 5;
  for (int64_t M : {1, 2, 4, 5, 9, 40}) {
    auto x = test::randn(size_t(M * K), seed++);
    std::vector<float> got(size_t(M * ldy), 3.f), want(size_t(M * ldy), 3.f);
    linear_parts(x.data(), M, K, parts, 3, got.data(), ldy);
    linear_parts_reference(x.data(), M, K, parts, 3, want.data(), ldy);
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2e-4 + 1e-5 * std::fabs(want[i])) << "M=" << M << " i=" << i;
  }
}

TEST(KernelsLinearParts, LargeInOutWeightsSplitAcrossThreads) {
  // Big enough for the parallel GEMV and the panel-converted GEMM paths.
  const int64_t K = 300, N = 1000;
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    Tensor w = transposed(random_weight(dt, N, K, 11));
    auto bias = test::randn(size_t(N), 12);
    LinearPart p{&w, bias.data(), WeightLayout::InOut};
    for (int64_t M : {1, 3, 70}) {
      auto x = test::randn(size_t(M * K), 13);
      std::vector<float> got(size_t(M * N)), want(size_t(M * N));
      linear_parts(x.data(), M, K, &p, 1, got.data(), N);
      linear_parts_reference(x.data(), M, K, &p, 1, want.data(), N);
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-3 + 1e-5 * std::fabs(want[i])) << dtype_name(dt) << " M=" << M << " i=" << i;
    }
  }
}

// The row split of [in, out] groups: the partial sums over any cut of the input rows
// add up to the whole product (bias counted once), for every dtype and 1-4 rows.
TEST(KernelsLinearParts, RowBlockPartialsAddUpToTheProduct) {
  const int64_t K = 77, N1 = 40, N2 = 33, N = N1 + N2;
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    Tensor w1 = transposed(random_weight(dt, N1, K, 21)), w2 = transposed(random_weight(dt, N2, K, 22));
    auto b1 = test::randn(size_t(N1), 23), b2 = test::randn(size_t(N2), 24);
    LinearPart ps[2] = {{&w1, b1.data(), WeightLayout::InOut}, {&w2, b2.data(), WeightLayout::InOut}};
    for (int64_t M = 1; M <= kGemvMaxRows; ++M) {
      auto x = test::randn(size_t(M * K), 25);
      std::vector<float> want(size_t(M * N));
      linear_parts_reference(x.data(), M, K, ps, 2, want.data(), N);
      for (std::vector<int64_t> cuts : {std::vector<int64_t>{0, K}, {0, 38, K}, {0, 0, 10, 50, K}}) {
        std::vector<float> sum(size_t(M * N), 0.f), part(size_t(M * N));
        for (size_t c = 0; c + 1 < cuts.size(); ++c) {
          linear_parts_krows(x.data(), M, K, ps, 2, part.data(), N, cuts[c], cuts[c + 1], c == 0);
          for (size_t i = 0; i < sum.size(); ++i) sum[i] += part[i];
        }
        for (size_t i = 0; i < sum.size(); ++i)
          ASSERT_NEAR(sum[i], want[i], 1e-4 + 1e-5 * std::fabs(want[i]))
              << dtype_name(dt) << " M=" << M << " cuts=" << cuts.size() << " i=" << i;
      }
    }
  }
}

TEST(KernelsLinearParts, RejectsBadShapes) {
  Tensor w = Tensor::zeros(DType::F32, {4, 6});  // [in=4, out=6] as InOut
  LinearPart p{&w, nullptr, WeightLayout::InOut};
  std::vector<float> x(12), y(24);
  EXPECT_NO_THROW(linear_parts(x.data(), 2, 4, &p, 1, y.data(), 6));
  EXPECT_THROW(linear_parts(x.data(), 2, 6, &p, 1, y.data(), 6), Error);  // K mismatch
  EXPECT_THROW(linear_parts(x.data(), 2, 4, &p, 1, y.data(), 5), Error);  // output row too short
  LinearPart none{};
  EXPECT_THROW(linear_parts(x.data(), 1, 4, &none, 1, y.data(), 6), Error);
}

// Linear over an [in, out] (Conv1D) weight used in place, its out_in() copy and a
// LinearGroup of both must agree, for decode and prefill row counts.
TEST(KernelsLinearParts, InOutLinearMatchesOutInCopyAndGroup) {
  const int64_t in = 40, out = 24;
  for (DType dt : {DType::F32, DType::BF16}) {
    Tensor w_out_in = random_weight(dt, out, in, 21);
    Linear conv = Linear::from(transposed(w_out_in), Tensor::from_vector(test::randn(size_t(out), 22), {out}));
    conv.in = in;
    conv.out = out;
    conv.layout = WeightLayout::InOut;
    Linear dense = conv.out_in();
    ASSERT_EQ(dense.layout, WeightLayout::OutIn);
    ASSERT_EQ(dense.weight.dim(0), out);
    LinearGroup g;
    g.add(conv);
    g.add(dense);
    EXPECT_EQ(g.out, 2 * out);
    for (int64_t M : {1, 4, 9}) {
      auto x = test::randn(size_t(M * in), 23);
      std::vector<float> a(size_t(M * out)), b(size_t(M * out)), both(size_t(M * 2 * out));
      conv.forward(x.data(), M, a.data());
      dense.forward(x.data(), M, b.data());
      g.forward(x.data(), M, both.data());
      for (int64_t m = 0; m < M; ++m)
        for (int64_t j = 0; j < out; ++j) {
          const size_t i = size_t(m * out + j);
          ASSERT_NEAR(a[i], b[i], 1e-4) << dtype_name(dt) << " M=" << M;
          ASSERT_NEAR(both[size_t(m * 2 * out + j)], a[i], 1e-4);
          ASSERT_NEAR(both[size_t(m * 2 * out + out + j)], b[i], 1e-4);
        }
    }
    Linear other = Linear::from(Tensor::zeros(DType::F32, {3, in + 1}), Tensor());
    EXPECT_THROW(g.add(other), Error);  // different input size
  }
}

}  // namespace
}  // namespace ia::cpu
