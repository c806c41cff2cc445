// layer_norm / rms_norm / softmax against double-precision formulas, and every
// activation transformers' ACT2FN names against its definition.
#include <gtest/gtest.h>

#include <algorithm>

#include "backends/cpu/kernels.h"
#include "core/error.h"
#include "kernels_test_util.h"

namespace ia::cpu {
namespace {

TEST(KernelsNorm, LayerNorm) {
  for (int64_t n : {1, 2, 7, 64, 333}) {
    const int64_t rows = 5;
    auto x = test::randn(size_t(rows * n), uint32_t(n), 3.f);
    for (int64_t i = 0; i < n; ++i) x[size_t(i)] += 100.f;  // large mean: cancellation must not hurt
    auto w = test::randn(size_t(n), 7), b = test::randn(size_t(n), 8);
    for (int variant = 0; variant < 3; ++variant) {
      const float* wp = variant >= 1 ? w.data() : nullptr;
      const float* bp = variant == 2 ? b.data() : nullptr;
      const float eps = variant == 0 ? 1e-5f : 1e-12f;
      std::vector<float> y(x.size());
      layer_norm(x.data(), rows, n, wp, bp, eps, y.data());
      for (int64_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (int64_t i = 0; i < n; ++i) mean += x[size_t(r * n + i)];
        mean /= double(n);
        for (int64_t i = 0; i < n; ++i) var += (x[size_t(r * n + i)] - mean) * (x[size_t(r * n + i)] - mean);
        var /= double(n);
        for (int64_t i = 0; i < n; ++i) {
          double want = (x[size_t(r * n + i)] - mean) / std::sqrt(var + eps);
          if (wp) want *= wp[i];
          if (bp) want += bp[i];
          ASSERT_NEAR(y[size_t(r * n + i)], want, 2e-4 + 1e-4 * std::fabs(want)) << "n=" << n << " variant=" << variant;
        }
      }
    }
  }
}

TEST(KernelsNorm, RmsNorm) {
  for (int64_t n : {1, 5, 64, 257}) {
    const int64_t rows = 3;
    auto x = test::randn(size_t(rows * n), uint32_t(n + 1), 2.f);
    auto w = test::randn(size_t(n), 9);
    for (float offset : {0.f, 1.f}) {
      for (bool with_w : {false, true}) {
        std::vector<float> y(x.size());
        rms_norm(x.data(), rows, n, with_w ? w.data() : nullptr, 1e-6f, y.data(), offset);
        for (int64_t r = 0; r < rows; ++r) {
          double ss = 0;
          for (int64_t i = 0; i < n; ++i) ss += double(x[size_t(r * n + i)]) * x[size_t(r * n + i)];
          double inv = 1.0 / std::sqrt(ss / double(n) + 1e-6);
          for (int64_t i = 0; i < n; ++i) {
            double want = x[size_t(r * n + i)] * inv * (with_w ? offset + w[size_t(i)] : 1.0);
            ASSERT_NEAR(y[size_t(r * n + i)], want, 1e-5 + 1e-5 * std::fabs(want)) << "n=" << n << " offset=" << offset;
          }
        }
      }
    }
  }
  // An all-zero row stays finite thanks to eps.
  std::vector<float> z(4, 0.f), y(4);
  rms_norm(z.data(), 1, 4, nullptr, 1e-6f, y.data());
  for (float v : y) EXPECT_EQ(v, 0.f);
}

void check_softmax(std::vector<float> x) {
  std::vector<float> y = x;
  softmax_inplace(y.data(), int64_t(y.size()));
  double mx = -INFINITY;
  for (float v : x) mx = std::max(mx, double(v));
  double sum = 0;
  for (float v : x) sum += std::exp(double(v) - mx);
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_NEAR(y[i], std::exp(double(x[i]) - mx) / sum, 1e-6) << "i=" << i << " n=" << x.size();
}

TEST(KernelsNorm, Softmax) {
  check_softmax({0.f});
  check_softmax({1.f, 2.f, 3.f});
  check_softmax({1000.f, 1001.f, 999.f});  // large logits: needs the max shift
  check_softmax({-1000.f, -1001.f});
  check_softmax({-INFINITY, 0.5f, -INFINITY, 2.f});
  check_softmax(test::randn(1000, 3, 10.f));
  // Lengths around the 16-lane vector width, masked entries in the vector tail too.
  for (int64_t n : {15, 16, 17, 33, 47}) {
    std::vector<float> x = test::randn(n, 5 + int(n), 4.f);
    x[size_t(n / 3)] = -INFINITY;
    x[size_t(n - 1)] = -INFINITY;
    check_softmax(x);
    softmax_inplace(x.data(), n);
    EXPECT_EQ(x[size_t(n - 1)], 0.f) << "a masked score is exactly 0, n=" << n;
  }
  std::vector<float> masked(5, -INFINITY);
  softmax_inplace(masked.data(), 5);
  for (float v : masked) EXPECT_EQ(v, 0.f) << "an all -inf row is defined as zeros";
  softmax_inplace(masked.data(), 0);  // no-op, no crash
}

// Definitions from transformers/activations.py and torch.nn, in double.
double act_ref(const std::string& name, double x) {
  const double pi = 3.14159265358979323846;
  if (name == "gelu" || name == "gelu_python") return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (name == "gelu_10") return std::clamp(0.5 * x * (1 + std::erf(x / std::sqrt(2.0))), -10.0, 10.0);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_accurate")
    return 0.5 * x * (1 + std::tanh(std::sqrt(2 / pi) * (x + 0.044715 * x * x * x)));
  if (name == "gelu_fast") return 0.5 * x * (1 + std::tanh(x * 0.7978845608 * (1 + 0.044715 * x * x)));
  if (name == "quick_gelu") return x / (1 + std::exp(-1.702 * x));
  if (name == "relu") return std::max(x, 0.0);
  if (name == "relu2") return x > 0 ? x * x : 0.0;
  if (name == "relu6") return std::clamp(x, 0.0, 6.0);
  if (name == "leaky_relu") return x >= 0 ? x : 0.01 * x;
  if (name == "silu" || name == "swish") return x / (1 + std::exp(-x));
  if (name == "sigmoid") return 1 / (1 + std::exp(-x));
  if (name == "tanh") return std::tanh(x);
  if (name == "linear") return x;
  if (name == "mish") return x * std::tanh(x > 20 ? x : std::log1p(std::exp(x)));  // softplus threshold 20
  if (name == "laplace") return 0.5 * (1 + std::erf((x - 0.707107) / (0.282095 * std::sqrt(2.0))));
  ADD_FAILURE() << "no reference for " << name;
  return 0;
}

const char* kAllActs[] = {"gelu",    "gelu_10", "gelu_fast", "gelu_new", "gelu_python", "gelu_pytorch_tanh",
                          "gelu_accurate", "laplace", "leaky_relu", "linear", "mish", "quick_gelu",
                          "relu",    "relu2",   "relu6",     "sigmoid",  "silu",        "swish",
                          "tanh"};  // every key of ACT2CLS in transformers 4.44.2

TEST(KernelsAct, EveryAct2FnNameMatchesItsFormula) {
  std::vector<float> xs = {0.f, -0.f, 1e-6f, -1e-6f, 0.5f, -0.5f, 1.f, -1.f, 3.f, -3.f, 5.9f, 6.1f, 10.f, -10.f,
                           12.f, 25.f, -25.f, 80.f, -80.f, 100.f, -100.f};
  for (int i = 0; i <= 400; ++i) xs.push_back(-20.f + 0.1f * float(i));
  for (const char* name : kAllActs) {
    Act a = act_from_name(name, "config.json");
    for (float x : xs) {
      double want = act_ref(name, x);
      float got = act_scalar(a, x);
      ASSERT_TRUE(test::close(got, want, 1e-6, 2e-6)) << name << "(" << x << ") = " << got << ", want " << want;
    }
    // The vector form, including the threaded path for long arrays, agrees with the scalar one.
    std::vector<float> v(70000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = xs[i % xs.size()];
    std::vector<float> w = v;
    // (SIMD forms of tanh/exp-based activations round differently: same tolerance to the formula.)
    apply_act(a, w.data(), int64_t(w.size()));
    for (size_t i = 0; i < v.size(); ++i)
      ASSERT_TRUE(test::close(w[i], act_ref(name, v[i]), 1e-6, 2e-6)) << name << "(" << v[i] << ") = " << w[i];
    // Every length (masked tails) and offset of the SIMD loop.
    for (int64_t n = 1; n <= 40; ++n) {
      std::vector<float> u(v.begin() + 3, v.begin() + 3 + n);
      apply_act(a, u.data(), n);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_TRUE(test::close(u[size_t(i)], act_ref(name, v[size_t(3 + i)]), 1e-6, 2e-6)) << name << " n=" << n;
    }
  }
}

TEST(KernelsAct, NamesAndErrors) {
  EXPECT_STREQ(act_name(act_from_name("gelu_new", "x")), act_name(act_from_name("gelu_pytorch_tanh", "x")));
  EXPECT_STREQ(act_name(act_from_name("swish", "x")), "silu");
  EXPECT_STREQ(act_name(Act::Identity), "identity");
  for (const char* name : kAllActs) EXPECT_STRNE(act_name(act_from_name(name, "x")), "?") << name;
  try {
    act_from_name("gelu_fancy", "config.json: hidden_act");
    ADD_FAILURE() << "unknown activation accepted";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("'gelu_fancy'"), std::string::npos) << m;
    EXPECT_NE(m.find("config.json: hidden_act"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace ia::cpu
