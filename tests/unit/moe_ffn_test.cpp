// MoeFfn on the fixtures' real expert weights: grouped computation == naive
// per-token loop, and top-k = num_experts == the dense softmax mixture.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "templates/moe/moe_model.h"
#include "templates/moe/moe_rows.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

std::vector<std::unique_ptr<MoeModel>> models() {
  std::vector<std::unique_ptr<MoeModel>> r;
  fs::path root = fs::path(IA_FIXTURES_DIR) / "models";
  for (const auto& type : moe_model_types()) {
    if (!fs::exists(root / type)) continue;
    for (const auto& e : fs::directory_iterator(root / type)) {
      if (!fs::exists(e.path() / "config.json")) continue;
      ModelContext ctx = ModelContext::open(e.path().string());
      ctx.checkpoint = Checkpoint::open_dir(e.path().string());
      r.push_back(std::make_unique<MoeModel>(ctx));
    }
  }
  return r;
}

std::vector<float> random_rows(int64_t rows, int64_t H, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> x(size_t(rows * H));
  for (auto& v : x) v = n(g);
  return x;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::fabs(a[i] - b[i])));
  return d;
}

}  // namespace

TEST(MoeFfn, GroupedEqualsNaivePerTokenLoop) {
  auto ms = models();
  ASSERT_FALSE(ms.empty());
  for (auto& m : ms) {
    const int64_t H = m->params().hidden, N = 13;
    for (int64_t l : m->moe_layers()) {
      MoeFfn& f = *m->moe_block(l);
      for (int64_t k = 1; k <= f.n_experts(); ++k) {
        f.set_top_k(k);
        auto x = random_rows(N, H, unsigned(100 + l * 10 + k));
        std::vector<float> grouped(size_t(N * H)), naive(size_t(N * H));
        f.forward(x.data(), N, grouped.data());
        std::vector<int32_t> sel_grouped = f.selected();
        f.forward_naive(x.data(), N, naive.data());
        EXPECT_EQ(sel_grouped, f.selected());
        EXPECT_LT(max_diff(grouped, naive), 1e-5) << m->model_type() << " layer " << l << " k " << k;
        double mag = 0;
        for (float v : grouped) mag = std::max(mag, double(std::fabs(v)));
        EXPECT_GT(mag, 1e-3);  // the block really produced something
      }
    }
  }
}

TEST(MoeFfn, AllExpertsEqualsDenseMixture) {
  for (auto& m : models()) {
    const int64_t H = m->params().hidden, N = 9;
    for (int64_t l : m->moe_layers()) {
      MoeFfn& f = *m->moe_block(l);
      const int64_t E = f.n_experts();
      f.set_top_k(E);
      auto x = random_rows(N, H, unsigned(7 + l));
      std::vector<float> y(size_t(N * H));
      f.forward(x.data(), N, y.data());
      std::vector<float> logits = f.router_logits();
      // Dense: every expert on every token, weighted by the full softmax.
      std::vector<float> dense(size_t(N * H), 0.f), o(size_t(N * H));
      for (int64_t e = 0; e < E; ++e) {
        f.expert_forward(e, x.data(), N, o.data());
        for (int64_t r = 0; r < N; ++r) {
          const float* lg = logits.data() + r * E;
          double mx = *std::max_element(lg, lg + E), z = 0;
          for (int64_t q = 0; q < E; ++q) z += std::exp(lg[q] - mx);
          const double w = std::exp(lg[e] - mx) / z;
          for (int64_t c = 0; c < H; ++c) dense[size_t(r * H + c)] += float(w) * o[size_t(r * H + c)];
        }
      }
      f.add_shared(x.data(), N, dense.data());
      EXPECT_LT(max_diff(y, dense), 1e-4) << m->model_type() << " layer " << l;
    }
  }
}
