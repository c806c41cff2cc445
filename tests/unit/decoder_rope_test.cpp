// RoPE scaling variants against the formulas of modeling_rope_utils.py /
// the legacy rotary classes, written out directly in double precision.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "formats/hf_config.h"
#include "parts/alibi.h"
#include "parts/rope.h"

using namespace ia;

namespace {

std::vector<double> base_freqs(int64_t dim, double base) {
  std::vector<double> f;
  for (int64_t i = 0; i < dim; i += 2) f.push_back(1.0 / std::pow(base, double(i) / double(dim)));
  return f;
}

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double rel = 2e-6) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], rel * std::fabs(want[i]) + 1e-30) << "freq " << i;
}

RopeParams params(RopeType t, RopeRule rule = RopeRule::Modern) {
  RopeParams p;
  p.type = t;
  p.rule = rule;
  p.dim = 16;
  p.base = 10000.0;
  p.max_pos = 64;
  return p;
}

HFConfig cfg(const std::string& text) { return HFConfig::from_json(nlohmann::json::parse(text), "test/config.json"); }

}  // namespace

TEST(Rope, DefaultAndLinear) {
  float af;
  expect_close(Rope::compute_inv_freq(params(RopeType::Default), 0, &af), base_freqs(16, 10000));
  EXPECT_EQ(af, 1.f);
  RopeParams p = params(RopeType::Linear);
  p.factor = 4.0;
  auto want = base_freqs(16, 10000);
  for (auto& w : want) w /= 4.0;
  expect_close(Rope::compute_inv_freq(p, 0, &af), want);
  // Legacy linear keeps the frequencies and divides the position instead.
  p.rule = RopeRule::Legacy;
  Rope r(p);
  int64_t pos = 10;
  r.prepare(&pos, 1, 11);
  auto f = base_freqs(16, 10000);
  for (int64_t i = 0; i < 8; ++i) EXPECT_NEAR(r.cos_at(0, i), std::cos(10.0 / 4.0 * f[size_t(i)]), 1e-6);
}

TEST(Rope, DynamicNTKGrowsAndResets) {
  RopeParams p = params(RopeType::Dynamic);
  p.factor = 2.0;
  Rope r(p);
  expect_close(r.inv_freq(), base_freqs(16, 10000));
  int64_t pos = 99;  // seq_len 100 > 64
  r.prepare(&pos, 1, 100);
  double base = 10000.0 * std::pow(2.0 * 100 / 64 - 1.0, 16.0 / 14.0);
  expect_close(r.inv_freq(), base_freqs(16, base), 1e-5);
  pos = 5;  // back inside the original context: reset (modern rule)
  r.prepare(&pos, 1, 6);
  expect_close(r.inv_freq(), base_freqs(16, 10000));
  // Legacy: grows with the key length and never resets.
  p.rule = RopeRule::Legacy;
  Rope l(p);
  pos = 10;
  l.prepare(&pos, 1, 80);
  double lb = 10000.0 * std::pow(2.0 * 80 / 64 - 1.0, 16.0 / 14.0);
  expect_close(l.inv_freq(), base_freqs(16, lb), 1e-5);
  l.prepare(&pos, 1, 11);
  expect_close(l.inv_freq(), base_freqs(16, lb), 1e-5);
}

TEST(Rope, Yarn) {
  RopeParams p = params(RopeType::Yarn);
  p.factor = 4.0;
  float af;
  auto got = Rope::compute_inv_freq(p, 0, &af);
  EXPECT_NEAR(af, 0.1 * std::log(4.0) + 1.0, 1e-6);
  auto corr = [&](double rot) { return 16.0 * std::log(64.0 / (rot * 2 * M_PI)) / (2 * std::log(10000.0)); };
  double low = std::max(std::floor(corr(32)), 0.0), high = std::min(std::ceil(corr(1)), 15.0);
  if (low == high) high += 0.001;
  auto f = base_freqs(16, 10000);
  std::vector<double> want;
  for (int64_t i = 0; i < 8; ++i) {
    double ramp = std::clamp((double(i) - low) / (high - low), 0.0, 1.0);
    double ef = 1 - ramp;
    want.push_back(f[size_t(i)] / 4.0 * (1 - ef) + f[size_t(i)] * ef);
  }
  expect_close(got, want, 1e-5);
}

TEST(Rope, Llama3) {
  RopeParams p = params(RopeType::Llama3);
  p.base = 500000.0;
  p.factor = 8.0;
  p.low_freq_factor = 1.0;
  p.high_freq_factor = 4.0;
  p.original_max_pos = 16;
  float af;
  auto got = Rope::compute_inv_freq(p, 0, &af);
  std::vector<double> want;
  for (double f : base_freqs(16, 500000.0)) {
    double wl = 2 * M_PI / f, low_wl = 16.0, high_wl = 4.0;
    if (wl < high_wl) want.push_back(f);
    else if (wl > low_wl) want.push_back(f / 8.0);
    else {
      double s = (16.0 / wl - 1.0) / 3.0;
      want.push_back((1 - s) * f / 8.0 + s * f);
    }
  }
  expect_close(got, want, 1e-5);
}

TEST(Rope, LongRopeModernAndPhi3) {
  RopeParams p = params(RopeType::LongRope);
  for (int i = 0; i < 8; ++i) {
    p.short_factor.push_back(1.0f + 0.1f * float(i));
    p.long_factor.push_back(2.0f + 0.5f * float(i));
  }
  p.original_max_pos = 16;  // max_pos 64 -> factor 4, long factors
  float af;
  auto got = Rope::compute_inv_freq(p, 0, &af);
  auto f = base_freqs(16, 10000);
  std::vector<double> want;
  for (int i = 0; i < 8; ++i) want.push_back(f[size_t(i)] / p.long_factor[size_t(i)]);
  expect_close(got, want, 1e-5);
  EXPECT_NEAR(af, std::sqrt(1 + std::log(4.0) / std::log(16.0)), 1e-6);
  // Phi-3: factors chosen per call from max(position) + 1.
  p.rule = RopeRule::Phi3LongRope;
  Rope r(p);
  int64_t pos = 10;
  r.prepare(&pos, 1, 11);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(r.inv_freq()[size_t(i)], f[size_t(i)] / p.short_factor[size_t(i)], 1e-5 * f[size_t(i)]);
  pos = 20;
  r.prepare(&pos, 1, 21);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(r.inv_freq()[size_t(i)], f[size_t(i)] / p.long_factor[size_t(i)], 1e-5 * f[size_t(i)]);
  EXPECT_NEAR(r.cos_at(0, 0), std::cos(20.0 * f[0] / p.long_factor[0]) * std::sqrt(1 + std::log(4.0) / std::log(16.0)), 1e-5);
}

TEST(Rope, ApplyHalfAndInterleaved) {
  RopeParams p = params(RopeType::Default);
  p.dim = 4;
  Rope r(p);
  int64_t pos = 3;
  r.prepare(&pos, 1, 4);
  // One head of size 6: dims 0..3 rotate, 4..5 pass through.
  std::vector<float> x = {1, 2, 3, 4, 5, 6};
  r.apply(x.data(), 1, 6, 1, 6);
  double a0 = 3.0, a1 = 3.0 / 100.0;
  EXPECT_NEAR(x[0], 1 * std::cos(a0) - 3 * std::sin(a0), 1e-5);
  EXPECT_NEAR(x[2], 3 * std::cos(a0) + 1 * std::sin(a0), 1e-5);
  EXPECT_NEAR(x[1], 2 * std::cos(a1) - 4 * std::sin(a1), 1e-5);
  EXPECT_EQ(x[4], 5.f);
  p.interleaved = true;
  Rope ri(p);
  ri.prepare(&pos, 1, 4);
  std::vector<float> y = {1, 2, 3, 4};
  ri.apply(y.data(), 1, 4, 1, 4);
  EXPECT_NEAR(y[0], 1 * std::cos(a0) - 2 * std::sin(a0), 1e-5);
  EXPECT_NEAR(y[1], 2 * std::cos(a0) + 1 * std::sin(a0), 1e-5);
  EXPECT_NEAR(y[2], 3 * std::cos(a1) - 4 * std::sin(a1), 1e-5);
}

TEST(Rope, ConfigParsingAndErrors) {
  std::vector<RopeType> all = {RopeType::Default, RopeType::Linear, RopeType::Dynamic,
                               RopeType::Yarn,    RopeType::LongRope, RopeType::Llama3};
  auto p = rope_params_from_config(cfg(R"({"max_position_embeddings": 64, "rope_scaling": {"type": "linear", "factor": 2.0}})"),
                                   RopeRule::Modern, 8, 10000, all, "llama");
  EXPECT_EQ(p.type, RopeType::Linear);
  EXPECT_EQ(p.factor, 2.0);
  try {
    rope_params_from_config(cfg(R"({"rope_scaling": {"rope_type": "banana", "factor": 2.0}})"), RopeRule::Modern, 8,
                            10000, all, "llama");
    FAIL() << "unknown rope type accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("banana"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("test/config.json"), std::string::npos);
  }
  EXPECT_THROW(rope_params_from_config(cfg(R"({"rope_scaling": {"rope_type": "llama3", "factor": 8.0}})"),
                                       RopeRule::Modern, 8, 10000, all, "llama"),
               Error);  // missing low/high_freq_factor
  EXPECT_THROW(rope_params_from_config(cfg(R"({"rope_scaling": {"type": "yarn", "factor": 2.0}})"), RopeRule::Legacy, 8,
                                       10000, {RopeType::Linear, RopeType::Dynamic}, "gpt_neox"),
               Error);  // not implemented by that model type in 4.44
  auto phi3 = rope_params_from_config(
      cfg(R"({"original_max_position_embeddings": 16, "rope_scaling": {"type": "su", "short_factor": [1,1], "long_factor": [2,2]}})"),
      RopeRule::Phi3LongRope, 4, 10000, {RopeType::LongRope}, "phi3");
  EXPECT_EQ(phi3.type, RopeType::LongRope);
  EXPECT_THROW(rope_params_from_config(cfg(R"({"original_max_position_embeddings": 16, "rope_scaling": {"type": "longrope", "short_factor": [1], "long_factor": [2,2]}})"),
                                       RopeRule::Phi3LongRope, 4, 10000, {RopeType::LongRope}, "phi3"),
               Error);  // factor list length
}

TEST(Alibi, SlopesForPowerOfTwoAndOtherHeadCounts) {
  auto s8 = alibi_slopes(8);
  ASSERT_EQ(s8.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(s8[size_t(i)], std::pow(2.0, -(i + 1)), 1e-7);
  // 12 heads: 8 from 2^-(k) series, then 4 odd powers of the 16-head base (2^-0.5).
  auto s12 = alibi_slopes(12);
  ASSERT_EQ(s12.size(), 12u);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(s12[size_t(8 + i)], std::pow(2.0, -0.5 * (2 * i + 1)), 1e-6);
  auto s6 = alibi_slopes(6);
  EXPECT_NEAR(s6[0], std::pow(2.0, -2), 1e-7);
  EXPECT_NEAR(s6[4], std::pow(2.0, -1), 1e-7);
  EXPECT_NEAR(s6[5], std::pow(2.0, -3), 1e-7);
  std::vector<int64_t> mask = {0, 0, 1, 1, 1};
  std::vector<float> pos(5);
  alibi_positions_from_mask(mask.data(), 5, pos.data());
  EXPECT_EQ(pos, (std::vector<float>{0, 0, 0, 1, 2}));
}
