// Scheduler properties that hold for any config (the bundled fixtures pin the
// numbers): timestep spacing, exact recovery of a known clean sample, config errors.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "diffusion_schedulers/scheduler.h"
#include "formats/hf_config.h"

using ia::HFConfig;
using ia::Tensor;
using namespace ia::diffusion;

namespace {

HFConfig sd_config(const std::string& cls, nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json j = {{"_class_name", cls},          {"beta_start", 0.00085}, {"beta_end", 0.012},
                      {"beta_schedule", "scaled_linear"}, {"num_train_timesteps", 1000}, {"steps_offset", 1},
                      {"set_alpha_to_one", false}, {"clip_sample", false}, {"skip_prk_steps", true}};
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return HFConfig::from_json(j, cls + " test config");
}

std::vector<int64_t> int_timesteps(const Scheduler& s) {
  std::vector<int64_t> v;
  for (double t : s.timesteps()) v.push_back(int64_t(t));
  return v;
}

Tensor filled(ia::Shape shape, float seed) {
  Tensor t = Tensor::f32(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = std::sin(seed * float(i + 1)) * 1.5f;
  return t;
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.f32()[i] - b.f32()[i]));
  return m;
}

}  // namespace

TEST(DiffusionSchedulers, DdimTimestepSpacings) {
  auto lead = make_scheduler(sd_config("DDIMScheduler"));
  lead->set_timesteps(10);
  EXPECT_EQ(int_timesteps(*lead), (std::vector<int64_t>{901, 801, 701, 601, 501, 401, 301, 201, 101, 1}));
  auto trail = make_scheduler(sd_config("DDIMScheduler", {{"timestep_spacing", "trailing"}}));
  trail->set_timesteps(10);
  EXPECT_EQ(int_timesteps(*trail), (std::vector<int64_t>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99}));
  auto lin = make_scheduler(sd_config("DDIMScheduler", {{"timestep_spacing", "linspace"}}));
  lin->set_timesteps(10);
  EXPECT_EQ(int_timesteps(*lin), (std::vector<int64_t>{999, 888, 777, 666, 555, 444, 333, 222, 111, 0}));
  EXPECT_EQ(lin->timesteps_tensor().dtype(), ia::DType::I64);
}

TEST(DiffusionSchedulers, PndmTimestepsWithAndWithoutPrk) {
  auto plms = make_scheduler(sd_config("PNDMScheduler"));
  plms->set_timesteps(5);
  // PLMS repeats the second timestep.
  EXPECT_EQ(int_timesteps(*plms), (std::vector<int64_t>{801, 601, 601, 401, 201, 1}));
  auto prk = make_scheduler(sd_config("PNDMScheduler", {{"skip_prk_steps", false}}));
  prk->set_timesteps(10);
  // 12 Runge-Kutta timesteps, then the remaining n - 3 PLMS ones.
  ASSERT_EQ(prk->timesteps().size(), 12u + 7u);
  EXPECT_EQ(int_timesteps(*prk)[0], 901);
  EXPECT_EQ(int_timesteps(*prk)[1], 851);  // half-step timesteps come in pairs
  EXPECT_EQ(int_timesteps(*prk)[2], 851);
  EXPECT_EQ(int_timesteps(*prk)[12], 601);
  EXPECT_EQ(int_timesteps(*prk).back(), 1);
}

TEST(DiffusionSchedulers, EulerKeepsFloatTimestepsAndSigmas) {
  auto s = make_scheduler(sd_config("EulerDiscreteScheduler", {{"timestep_spacing", "linspace"}}));
  s->set_timesteps(4);
  EXPECT_EQ(s->timesteps_tensor().dtype(), ia::DType::F32);
  ASSERT_EQ(s->sigmas().size(), 5u);
  EXPECT_EQ(s->sigmas().back(), 0.0f);
  EXPECT_NEAR(s->init_noise_sigma(), s->sigmas().front(), 1e-6);  // 'linspace': sigma_max itself
  auto lead = make_scheduler(sd_config("EulerDiscreteScheduler", {{"timestep_spacing", "leading"}}));
  lead->set_timesteps(4);
  const float smax = lead->sigmas().front();
  EXPECT_NEAR(lead->init_noise_sigma(), std::sqrt(smax * smax + 1), 1e-5);
}

// DDIM with eta = 0: fed the true noise of x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps, a step
// recovers x0 exactly and lands on the same construction at the previous timestep.
TEST(DiffusionSchedulers, DdimDeterministicStepRecoversCleanSample) {
  auto s = make_scheduler(sd_config("DDIMScheduler"));
  s->set_timesteps(10);
  const Tensor x0 = filled({1, 4, 3, 3}, 0.7f), eps = filled({1, 4, 3, 3}, 1.3f);
  const auto& ts = s->timesteps();
  Tensor x = s->add_noise(x0, eps, {ts[0]});
  for (size_t i = 0; i < ts.size(); ++i) {
    StepOutput o = s->step(eps, ts[i], x, {});
    EXPECT_LT(max_abs_diff(o.pred_original_sample, x0), 1e-4) << "step " << i;
    if (i + 1 < ts.size()) {
      const Tensor want = s->add_noise(x0, eps, {ts[i + 1]});
      EXPECT_LT(max_abs_diff(o.prev_sample, want), 1e-4) << "step " << i;
    }
    x = o.prev_sample;
  }
}

// Euler: x = x0 + sigma * eps with model output eps gives x0 back and moves to the next sigma.
TEST(DiffusionSchedulers, EulerStepFollowsTheNoiseLine) {
  for (bool karras : {false, true}) {
    auto s = make_scheduler(sd_config("EulerDiscreteScheduler", {{"use_karras_sigmas", karras}}));
    s->set_timesteps(8);
    const Tensor x0 = filled({1, 4, 2, 2}, 0.3f), eps = filled({1, 4, 2, 2}, 2.1f);
    Tensor x = s->add_noise(x0, eps, {s->timesteps()[0]});
    for (size_t i = 0; i < s->timesteps().size(); ++i) {
      const double t = s->timesteps()[i];
      (void)s->scale_model_input(x, t);
      StepOutput o = s->step(eps, t, x, {});
      EXPECT_LT(max_abs_diff(o.pred_original_sample, x0), 1e-4);
      x = o.prev_sample;
    }
    EXPECT_LT(max_abs_diff(x, x0), 1e-4) << "karras " << karras;  // the last sigma is 0
  }
}

// DPM-Solver(++) of every order is exact when the data prediction is constant: each
// step lands on alpha_t x0 + sigma_t eps, so the last step returns x0.
TEST(DiffusionSchedulers, DpmSolverExactForConstantDataPrediction) {
  for (int order : {1, 2, 3})
    for (const char* algo : {"dpmsolver++", "dpmsolver"}) {
      nlohmann::json extra = {{"solver_order", order}, {"prediction_type", "sample"}, {"algorithm_type", algo},
                              {"final_sigmas_type", std::string(algo) == "dpmsolver" ? "sigma_min" : "zero"}};
      auto s = make_scheduler(sd_config("DPMSolverMultistepScheduler", extra));
      s->set_timesteps(12);
      const Tensor x0 = filled({1, 4, 2, 2}, 0.9f), eps = filled({1, 4, 2, 2}, 0.4f);
      Tensor x = s->add_noise(x0, eps, {s->timesteps()[0]});
      for (double t : s->timesteps()) x = s->step(x0, t, x, {}).prev_sample;
      if (std::string(algo) == "dpmsolver++") {
        EXPECT_LT(max_abs_diff(x, x0), 2e-4) << "order " << order;
      } else {
        // ends at sigma_min: alpha x0 + sigma eps with sigma ~ 0.03
        EXPECT_LT(max_abs_diff(x, x0), 0.1f) << "order " << order;
      }
    }
}

TEST(DiffusionSchedulers, TrainingScheduleOptions) {
  auto cos = make_scheduler(sd_config("DDIMScheduler", {{"beta_schedule", "squaredcos_cap_v2"}}));
  for (float b : cos->betas()) {
    EXPECT_GT(b, 0.0f);
    EXPECT_LE(b, 0.999f);
  }
  auto zsnr = make_scheduler(sd_config("DDIMScheduler", {{"rescale_betas_zero_snr", true}}));
  EXPECT_EQ(zsnr->alphas_cumprod().back(), 0.0f);
  auto ezsnr = make_scheduler(sd_config("EulerDiscreteScheduler", {{"rescale_betas_zero_snr", true}}));
  EXPECT_EQ(ezsnr->alphas_cumprod().back(), std::ldexp(1.0f, -24));
  // PNDM's __init__ has no rescale_betas_zero_snr: the key is ignored, as diffusers does.
  auto pndm = make_scheduler(sd_config("PNDMScheduler", {{"rescale_betas_zero_snr", true}}));
  EXPECT_GT(pndm->alphas_cumprod().back(), 0.0f);
  auto trained = make_scheduler(HFConfig::from_json(
      {{"_class_name", "DDIMScheduler"}, {"num_train_timesteps", 3}, {"trained_betas", {0.1, 0.2, 0.3}}}, "t"));
  EXPECT_NEAR(trained->alphas_cumprod()[2], 0.9 * 0.8 * 0.7, 1e-6);
}

TEST(DiffusionSchedulers, StochasticStepsNeedNoise) {
  auto s = make_scheduler(sd_config("EulerAncestralDiscreteScheduler"));
  s->set_timesteps(4);
  const Tensor x = filled({1, 4, 2, 2}, 0.5f);
  EXPECT_THROW(s->step(x, s->timesteps()[0], x, {}), ia::Error);
  StepOptions opt;
  const Tensor wrong = filled({1, 4, 2, 3}, 0.1f);
  opt.noise = &wrong;
  EXPECT_THROW(s->step(x, s->timesteps()[0], x, opt), ia::Error);
}

TEST(DiffusionSchedulers, ConfigErrorsNameTheField) {
  try {
    make_scheduler(sd_config("KDPM2Scheduler"));
    FAIL() << "no error";
  } catch (const ia::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("KDPM2Scheduler"), std::string::npos) << m;
    EXPECT_NE(m.find("DDIMScheduler"), std::string::npos) << m;  // lists the supported ones
  }
  EXPECT_THROW(make_scheduler(HFConfig::from_json({{"beta_start", 0.1}}, "x")), ia::Error);  // no _class_name
  try {
    make_scheduler(sd_config("DDIMScheduler", {{"beta_schedule", "quadratic"}}));
    FAIL() << "no error";
  } catch (const ia::Error& e) {
    EXPECT_NE(std::string(e.what()).find("beta_schedule"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_scheduler(sd_config("DDIMScheduler", {{"timestep_spacing", "cosine"}})), ia::Error);
  EXPECT_THROW(make_scheduler(sd_config("DDIMScheduler", {{"prediction_type", "x0"}})), ia::Error);
  EXPECT_THROW(make_scheduler(sd_config("DPMSolverMultistepScheduler", {{"solver_order", 4}})), ia::Error);
  auto s = make_scheduler(sd_config("DDIMScheduler"));
  EXPECT_THROW(s->set_timesteps(1001), ia::Error);
  EXPECT_THROW(s->set_timesteps(0), ia::Error);
  const Tensor x = filled({1, 4, 2, 2}, 0.5f);
  EXPECT_THROW(s->step(x, 901, x, {}), ia::Error);  // before set_timesteps
  s->set_timesteps(10);
  EXPECT_THROW(s->step(filled({1, 4, 2, 3}, 0.5f), 901, x, {}), ia::Error);  // shape mismatch
  EXPECT_THROW(s->step(x, 5000, x, {}), ia::Error);                         // timestep out of range
}
