// The run-time selected SIMD dot kernels against the portable scalar ones and
// a double-precision reference, over lengths that exercise every tail path.
#include <gtest/gtest.h>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/simd.h"
#include "core/dtype.h"
#include "kernels_test_util.h"

namespace ia::cpu {
namespace {

std::vector<int64_t> lengths() {
  std::vector<int64_t> n;
  for (int64_t i = 0; i <= 130; ++i) n.push_back(i);
  for (int64_t i : {191, 192, 193, 255, 256, 257, 1000, 1023, 1024, 1025, 4099}) n.push_back(i);
  return n;
}

// Bound on float accumulation error: a few ulps of the sum of |x_i * w_i|.
double tol(const float* x, const std::vector<float>& w, int64_t n) {
  double mag = 0;
  for (int64_t i = 0; i < n; ++i) mag += std::fabs(double(x[i]) * w[size_t(i)]);
  return 1e-6 + 4e-7 * std::sqrt(double(n) + 1) * mag;
}

TEST(KernelsSimd, IsaMatchesCpu) {
  const Kernels& k = simd_kernels();
  EXPECT_EQ(std::string(k.isa), cpu_info().kernel_isa == "neon" ? "scalar" : cpu_info().kernel_isa);
  EXPECT_STREQ(scalar_kernels().isa, "scalar");
}

TEST(KernelsSimd, DotF32) {
  const Kernels& simd = simd_kernels();
  const Kernels& ref = scalar_kernels();
  auto xs = test::randn(4200, 1), ws = test::randn(4200, 2);
  for (int64_t n : lengths()) {
    for (int off : {0, 1, 3}) {  // unaligned starts too
      const float* x = xs.data() + off;
      std::vector<float> w(ws.begin() + off, ws.begin() + off + n);
      double want = 0;
      for (int64_t i = 0; i < n; ++i) want += double(x[i]) * w[size_t(i)];
      double t = tol(x, w, n);
      EXPECT_NEAR(simd.dot_f32(x, w.data(), n), want, t) << "n=" << n << " off=" << off;
      EXPECT_NEAR(ref.dot_f32(x, w.data(), n), want, t) << "n=" << n << " off=" << off;
      EXPECT_NEAR(dot(x, w.data(), n), want, t) << "n=" << n;
    }
  }
}

TEST(KernelsSimd, DotHalfTypes) {
  const Kernels& simd = simd_kernels();
  const Kernels& ref = scalar_kernels();
  auto xs = test::randn(4200, 3), wf = test::randn(4200, 4);
  std::vector<uint16_t> wb(wf.size()), wh(wf.size());
  for (size_t i = 0; i < wf.size(); ++i) {
    wb[i] = f32_to_bf16(wf[i]);
    wh[i] = f32_to_f16(wf[i]);
  }
  for (int64_t n : lengths()) {
    for (int off : {0, 1}) {
      const float* x = xs.data() + off;
      std::vector<float> wbf(static_cast<size_t>(n)), whf(static_cast<size_t>(n));
      double want_b = 0, want_h = 0;
      for (int64_t i = 0; i < n; ++i) {
        wbf[size_t(i)] = bf16_to_f32(wb[size_t(i + off)]);
        whf[size_t(i)] = f16_to_f32(wh[size_t(i + off)]);
        want_b += double(x[i]) * wbf[size_t(i)];
        want_h += double(x[i]) * whf[size_t(i)];
      }
      EXPECT_NEAR(simd.dot_bf16(x, wb.data() + off, n), want_b, tol(x, wbf, n)) << "bf16 n=" << n << " off=" << off;
      EXPECT_NEAR(ref.dot_bf16(x, wb.data() + off, n), want_b, tol(x, wbf, n)) << "bf16 n=" << n;
      EXPECT_NEAR(simd.dot_f16(x, wh.data() + off, n), want_h, tol(x, whf, n)) << "f16 n=" << n << " off=" << off;
      EXPECT_NEAR(ref.dot_f16(x, wh.data() + off, n), want_h, tol(x, whf, n)) << "f16 n=" << n;
    }
  }
}

TEST(KernelsSimd, SpecialValuesPropagate) {
  const Kernels& simd = simd_kernels();
  for (int64_t n : {1, 7, 16, 33, 100}) {
    std::vector<float> x(size_t(n), 1.f), w(size_t(n), 0.5f);
    std::vector<uint16_t> wb(size_t(n), f32_to_bf16(0.5f)), wh(size_t(n), f32_to_f16(0.5f));
    x[size_t(n - 1)] = NAN;  // in the tail for most n
    EXPECT_TRUE(std::isnan(simd.dot_f32(x.data(), w.data(), n))) << n;
    EXPECT_TRUE(std::isnan(simd.dot_bf16(x.data(), wb.data(), n))) << n;
    EXPECT_TRUE(std::isnan(simd.dot_f16(x.data(), wh.data(), n))) << n;
    x[size_t(n - 1)] = 1.f;
    w[0] = INFINITY;
    wb[0] = 0x7f80;
    wh[0] = 0x7c00;
    EXPECT_EQ(simd.dot_f32(x.data(), w.data(), n), INFINITY) << n;
    EXPECT_EQ(simd.dot_bf16(x.data(), wb.data(), n), INFINITY) << n;
    EXPECT_EQ(simd.dot_f16(x.data(), wh.data(), n), INFINITY) << n;
  }
}

}  // namespace
}  // namespace ia::cpu
