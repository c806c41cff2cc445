#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "pipelines/sampling.h"

using namespace ia;

TEST(Sampling, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  std::vector<float> l = {2.f, -2.f, 1.f};
  apply_repetition_penalty(l.data(), 3, {0, 1, 1}, 2.f);  // repeated id penalised once
  EXPECT_FLOAT_EQ(l[0], 1.f);
  EXPECT_FLOAT_EQ(l[1], -4.f);
  EXPECT_FLOAT_EQ(l[2], 1.f);
}

TEST(Sampling, TopKKeepsTiesAtTheBoundary) {
  std::vector<float> l = {1.f, 3.f, 2.f, 2.f, 0.f};
  apply_top_k(l.data(), 5, 2);
  EXPECT_TRUE(std::isinf(l[0]) && l[0] < 0);
  EXPECT_EQ(l[1], 3.f);
  EXPECT_EQ(l[2], 2.f);  // torch.topk threshold keeps every value equal to the k-th
  EXPECT_EQ(l[3], 2.f);
  EXPECT_TRUE(std::isinf(l[4]));
}

TEST(Sampling, TopPKeepsSmallestSetReachingMass) {
  // probs ~ [0.5, 0.3, 0.2] after softmax of log-probs
  std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  auto a = l;
  apply_top_p(a.data(), 3, 0.7f);
  EXPECT_FALSE(std::isinf(a[0]));
  EXPECT_FALSE(std::isinf(a[1]));
  EXPECT_TRUE(std::isinf(a[2]));
  auto b = l;
  apply_top_p(b.data(), 3, 0.4f);
  EXPECT_FALSE(std::isinf(b[0]));
  EXPECT_TRUE(std::isinf(b[1]));
}

TEST(Sampling, MinPScalesWithTopProbability) {
  std::vector<float> l = {std::log(0.6f), std::log(0.3f), std::log(0.1f)};
  apply_min_p(l.data(), 3, 0.2f);  // threshold 0.12
  EXPECT_FALSE(std::isinf(l[1]));
  EXPECT_TRUE(std::isinf(l[2]));
}

TEST(Sampling, GreedyIsArgmaxAndSeededSamplingIsReproducible) {
  std::vector<float> base = {0.1f, 0.5f, 0.4f, 0.45f};
  Sampler g(SamplingParams{});
  auto l = base;
  EXPECT_EQ(g.next(l.data(), 4, {}), 1);

  SamplingParams p;
  p.do_sample = true;
  p.top_k = 0;
  p.seed = 42;
  std::vector<int64_t> first, second;
  for (int rep = 0; rep < 2; ++rep) {
    Sampler s(p);
    auto& out = rep ? second : first;
    for (int i = 0; i < 50; ++i) {
      auto x = base;
      out.push_back(s.next(x.data(), 4, {}));
    }
  }
  EXPECT_EQ(first, second);
  std::map<int64_t, int> counts;
  for (auto t : first) counts[t]++;
  EXPECT_GT(counts.size(), 1u);  // a near-flat distribution must not collapse to one token
}

TEST(Sampling, TopKOneMakesSamplingGreedy) {
  SamplingParams p;
  p.do_sample = true;
  p.top_k = 1;
  p.temperature = 0.7f;
  Sampler s(p);
  for (int i = 0; i < 20; ++i) {
    std::vector<float> l = {0.1f, 0.2f, 0.9f, 0.3f};
    EXPECT_EQ(s.next(l.data(), 4, {}), 2);
  }
}
