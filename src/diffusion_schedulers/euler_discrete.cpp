// EulerDiscreteScheduler and EulerAncestralDiscreteScheduler (diffusers 0.30.3):
// k-diffusion style samplers over sigmas interpolated from the training
// schedule (optionally Karras sigmas), float timesteps.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "diffusion_schedulers/schedule_common.h"
#include "diffusion_schedulers/scheduler_classes.h"
#include "diffusion_schedulers/sigma_scheduler.h"

namespace ia::diffusion {

namespace {

class EulerDiscreteScheduler final : public SigmaScheduler {
 public:
  explicit EulerDiscreteScheduler(const HFConfig& cfg) {
    read_common(cfg, true);
    prediction_ = config_choice(cfg, "prediction_type", "epsilon", {"epsilon", "v_prediction", "sample", "original_sample"});
    interpolation_ = config_choice(cfg, "interpolation_type", "linear", {"linear", "log_linear"});
    karras_ = cfg.get_bool("use_karras_sigmas", false);
    if (cfg.has("sigma_min")) sigma_min_ = cfg.get_float("sigma_min");
    if (cfg.has("sigma_max")) sigma_max_ = cfg.get_float("sigma_max");
    timestep_type_ = config_choice(cfg, "timestep_type", "discrete", {"discrete", "continuous"});
    final_sigmas_ = config_choice(cfg, "final_sigmas_type", "zero", {"zero", "sigma_min"});
    if (continuous_v()) timesteps_ = continuous_timesteps();
  }
  const char* class_name() const override { return "EulerDiscreteScheduler"; }

  void set_timesteps(int n) override {
    check_steps(n);
    num_inference_steps_ = n;
    std::vector<double> ts;
    const std::vector<double> sig =
        inference_sigmas(n, {interpolation_ == "log_linear", karras_, sigma_min_, sigma_max_}, ts);
    set_sigmas(sig, final_sigma(final_sigmas_, alphas_cumprod_));
    set_timesteps_as(continuous_v() ? continuous_timesteps() : ts, TimestepDType::F32);
  }

  StepOutput step(const Tensor& model_output_in, double timestep, const Tensor& sample_in,
                  const StepOptions& opts) override {
    const auto [mo, x] = begin_step(model_output_in, timestep, sample_in);
    // diffusers draws the churn noise even when s_churn = 0 (it then goes unused); keep the
    // generator stream in step when the caller draws from one.
    if (opts.draw && !opts.noise) (void)opts.draw(x.shape());
    const float sigma = sigmas_[size_t(step_index_)];
    const float sigma_hat = sigma;  // gamma = 0 (s_churn = 0, the pipelines' default)
    const float dt = sigmas_[size_t(step_index_) + 1] - sigma_hat;
    Tensor prev = Tensor::f32(x.shape()), x0 = Tensor::f32(x.shape());
    const float *s = x.f32(), *m = mo.f32();
    float *pp = prev.f32(), *px0 = x0.f32();
    const OriginalSample original(prediction_, sigma);  // diffusers: sigma_hat for epsilon, equal here
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float p0 = original(s[i], m[i]);
      px0[i] = p0;
      const float deriv = (s[i] - p0) / sigma_hat;
      pp[i] = s[i] + deriv * dt;
    }
    ++step_index_;
    return {prev, x0};
  }

 private:
  bool continuous_v() const { return timestep_type_ == "continuous" && prediction_ == "v_prediction"; }
  // The continuous-v timesteps: 0.25 * log(sigma) of every sigma but the final one (float32).
  std::vector<double> continuous_timesteps() const {
    std::vector<double> ts;
    for (size_t i = 0; i + 1 < sigmas_.size(); ++i) ts.push_back(double(0.25f * std::log(sigmas_[i])));
    return ts;
  }
  std::string prediction_, interpolation_, timestep_type_, final_sigmas_;
  bool karras_ = false;
  double sigma_min_ = -1, sigma_max_ = -1;
};

class EulerAncestralDiscreteScheduler final : public SigmaScheduler {
 public:
  explicit EulerAncestralDiscreteScheduler(const HFConfig& cfg) {
    read_common(cfg, true);
    prediction_ = config_choice(cfg, "prediction_type", "epsilon", {"epsilon", "v_prediction"});
  }
  const char* class_name() const override { return "EulerAncestralDiscreteScheduler"; }

  void set_timesteps(int n) override {
    check_steps(n);
    num_inference_steps_ = n;
    std::vector<double> ts;
    set_sigmas(inference_sigmas(n, {}, ts), 0.0f);
    set_timesteps_as(ts, TimestepDType::F32);
  }

  StepOutput step(const Tensor& model_output_in, double timestep, const Tensor& sample_in,
                  const StepOptions& opts) override {
    const auto [mo, x] = begin_step(model_output_in, timestep, sample_in);
    const float sigma = sigmas_[size_t(step_index_)];
    const float sigma_to = sigmas_[size_t(step_index_) + 1];
    const float sigma_up = std::pow(sigma_to * sigma_to * (sigma * sigma - sigma_to * sigma_to) / (sigma * sigma), 0.5f);
    const float sigma_down = std::pow(sigma_to * sigma_to - sigma_up * sigma_up, 0.5f);
    const float dt = sigma_down - sigma;
    const Tensor noise = step_noise(opts, x.shape(), "EulerAncestralDiscreteScheduler.step");
    Tensor prev = Tensor::f32(x.shape()), x0 = Tensor::f32(x.shape());
    const float *s = x.f32(), *m = mo.f32(), *z = noise.f32();
    float *pp = prev.f32(), *px0 = x0.f32();
    const OriginalSample original(prediction_, sigma);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float p0 = original(s[i], m[i]);
      px0[i] = p0;
      const float deriv = (s[i] - p0) / sigma;
      pp[i] = (s[i] + deriv * dt) + z[i] * sigma_up;
    }
    ++step_index_;
    return {prev, x0};
  }

 private:
  std::string prediction_;
};

}  // namespace

std::unique_ptr<Scheduler> make_euler_scheduler(const HFConfig& cfg) {
  return std::make_unique<EulerDiscreteScheduler>(cfg);
}
std::unique_ptr<Scheduler> make_euler_ancestral_scheduler(const HFConfig& cfg) {
  return std::make_unique<EulerAncestralDiscreteScheduler>(cfg);
}

}  // namespace ia::diffusion
