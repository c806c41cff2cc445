// cpu::linear (GEMV path for small M, GEMM / panel-converted GEMM otherwise)
// against linear_reference, and gemm_nt / gemm_nn against naive loops.
#include <gtest/gtest.h>

#include "backends/cpu/kernels.h"
#include "core/error.h"
#include "kernels_test_util.h"

namespace ia::cpu {
namespace {

Tensor weight(DType dt, int64_t N, int64_t K, uint32_t seed) {
  auto v = test::randn(size_t(N * K), seed, 0.5f);
  Tensor w = Tensor::empty(dt, {N, K});
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::F32) w.f32()[i] = v[i];
    else if (dt == DType::F16) static_cast<uint16_t*>(w.raw())[i] = f32_to_f16(v[i]);
    else static_cast<uint16_t*>(w.raw())[i] = f32_to_bf16(v[i]);
  }
  return w;
}

struct Dims {
  int64_t K, N;
};

TEST(KernelsLinear, MatchesReference) {
  const std::vector<int64_t> Ms = {1, 2, 3, 4, 5, 17, 64};
  const std::vector<Dims> dims = {{1, 1}, {7, 3}, {33, 17}, {64, 300}, {129, 5}, {300, 513}};
  uint32_t seed = 10;
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    for (const Dims& d : dims) {
      Tensor w = weight(dt, d.N, d.K, seed++);
      auto bias = test::randn(size_t(d.N), seed++);
      for (int64_t M : Ms) {
        auto x = test::randn(size_t(M * d.K), seed++);
        for (bool with_bias : {false, true}) {
          std::vector<float> got(size_t(M * d.N), NAN), want(size_t(M * d.N), NAN);
          const float* b = with_bias ? bias.data() : nullptr;
          linear(x.data(), M, d.K, w, b, got.data());
          linear_reference(x.data(), M, d.K, w, b, want.data());
          for (size_t i = 0; i < got.size(); ++i) {
            ASSERT_TRUE(test::close(got[i], want[i], 2e-5 * std::sqrt(double(d.K)), 1e-5))
                << dtype_name(dt) << " M=" << M << " K=" << d.K << " N=" << d.N << " bias=" << with_bias << " i=" << i
                << " got " << got[i] << " want " << want[i];
          }
        }
      }
    }
  }
}

TEST(KernelsLinear, RejectsBadWeights) {
  std::vector<float> x(8), y(8);
  Tensor w = Tensor::zeros(DType::F32, {2, 3});
  try {
    linear(x.data(), 1, 4, w, nullptr, y.data());
    ADD_FAILURE() << "shape mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
  Tensor wi = Tensor::zeros(DType::I64, {2, 4});
  try {
    linear(x.data(), 1, 4, wi, nullptr, y.data());
    ADD_FAILURE() << "I64 weight accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("I64"), std::string::npos) << e.what();
  }
  EXPECT_THROW(linear(x.data(), 1, 4, Tensor::zeros(DType::F32, {8}), nullptr, y.data()), Error);
}

// C = alpha * op(A) . op(B) + beta * C with padded leading dimensions.
void naive_gemm(bool b_transposed, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                int64_t ldb, float* C, int64_t ldc, float alpha, float beta) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(A[m * lda + k]) * (b_transposed ? B[n * ldb + k] : B[k * ldb + n]);
      C[m * ldc + n] = float(alpha * acc + (beta == 0.f ? 0.0 : double(beta) * C[m * ldc + n]));
    }
}

TEST(KernelsLinear, GemmMatchesNaive) {
  struct Case {
    int64_t M, N, K;
    float alpha, beta;
  };
  const Case cases[] = {{1, 1, 1, 1.f, 0.f},  {3, 5, 7, 1.f, 0.f},   {17, 33, 65, 0.5f, 0.f},
                        {64, 48, 31, 1.f, 1.f}, {5, 130, 257, 2.f, -0.5f}, {4, 6, 0, 1.f, 0.5f},
                        {7, 3, 0, 1.f, 0.f}};
  uint32_t seed = 100;
  for (const Case& c : cases) {
    for (bool bt : {true, false}) {
      const int64_t lda = c.K + 3, ldb = (bt ? c.K : c.N) + 2, ldc = c.N + 1;
      auto A = test::randn(size_t(c.M * lda), seed++);
      auto B = test::randn(size_t((bt ? c.N : c.K) * ldb + 1), seed++);
      auto C0 = test::randn(size_t(c.M * ldc), seed++);
      if (c.beta == 0.f)
        for (int64_t m = 0; m < c.M; ++m) C0[size_t(m * ldc)] = NAN;  // beta = 0 must ignore old C, even NaN
      std::vector<float> got = C0, want = C0;
      if (bt) gemm_nt(c.M, c.N, c.K, A.data(), lda, B.data(), ldb, got.data(), ldc, c.alpha, c.beta);
      else gemm_nn(c.M, c.N, c.K, A.data(), lda, B.data(), ldb, got.data(), ldc, c.alpha, c.beta);
      naive_gemm(bt, c.M, c.N, c.K, A.data(), lda, B.data(), ldb, want.data(), ldc, c.alpha, c.beta);
      for (int64_t m = 0; m < c.M; ++m) {
        for (int64_t n = 0; n < c.N; ++n)
          ASSERT_TRUE(test::close(got[size_t(m * ldc + n)], want[size_t(m * ldc + n)], 1e-4 * std::sqrt(double(c.K) + 1), 1e-5))
              << (bt ? "nt" : "nn") << " M=" << c.M << " N=" << c.N << " K=" << c.K << " at " << m << "," << n;
        EXPECT_EQ(got[size_t(m * ldc + c.N)], C0[size_t(m * ldc + c.N)]) << "padding column was written";
      }
    }
  }
}

TEST(KernelsLinear, ElementwiseHelpers) {
  std::vector<float> y = {1, 2, 3}, x = {4, 5, 6};
  add_inplace(y.data(), x.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{5, 7, 9}));
  mul_inplace(y.data(), x.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{20, 35, 54}));
  scale_inplace(y.data(), 0.5f, 3);
  EXPECT_EQ(y, (std::vector<float>{10, 17.5f, 27}));
}

// Decode callers split a step across their own threads: every split covers the columns
// exactly once, inner boundaries on 16 columns, and the slices together equal linear_parts().
TEST(KernelsLinearParts, ColumnSlicesOfASplitEqualTheWhole) {
  for (int64_t total : {0, 1, 15, 16, 17, 100, 2304, 5632})
    for (int T : {1, 2, 3, 4, 7}) {
      int64_t next = 0;
      for (int t = 0; t < T; ++t) {
        int64_t c0, c1;
        split_cols(total, t, T, &c0, &c1);
        ASSERT_EQ(c0, next) << total << " " << T << " " << t;
        ASSERT_LE(c0, c1);
        if (t < T - 1) ASSERT_EQ(c1 % 16, 0);
        next = c1;
      }
      ASSERT_EQ(next, total);
    }
  const int64_t K = 70;
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    Tensor a = weight(dt, 45, K, 31), b = weight(dt, 83, K, 32);
    auto bias = test::randn(83, 33);
    const LinearPart parts[2] = {{&a, nullptr, WeightLayout::OutIn}, {&b, bias.data(), WeightLayout::OutIn}};
    for (int64_t M : {1, 2, 4}) {
      auto x = test::randn(size_t(M * K), 34);
      std::vector<float> whole(size_t(M * 128)), sliced(size_t(M * 128), NAN);
      linear_parts(x.data(), M, K, parts, 2, whole.data(), 128);
      for (int T : {1, 3, 5})
        for (int t = 0; t < T; ++t) {
          int64_t c0, c1;
          split_cols(128, t, T, &c0, &c1);
          linear_parts_cols(x.data(), M, K, parts, 2, sliced.data(), 128, c0, c1);
        }
      for (size_t i = 0; i < whole.size(); ++i) ASSERT_EQ(sliced[i], whole[i]) << dtype_name(dt) << " M=" << M << " i=" << i;
    }
  }
}

}  // namespace
}  // namespace ia::cpu
