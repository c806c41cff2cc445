// DDIMScheduler (diffusers 0.30.3): deterministic for eta = 0, with the given or
// drawn variance noise for eta > 0.
#include <cmath>

#include "core/error.h"
#include "diffusion_schedulers/schedule_common.h"
#include "diffusion_schedulers/scheduler_classes.h"

namespace ia::diffusion {

namespace {

class DDIMScheduler final : public Scheduler {
 public:
  explicit DDIMScheduler(const HFConfig& cfg) {
    TrainSchedule s = make_train_schedule(cfg, /*allow_rescale=*/true);
    num_train_timesteps_ = s.num_train_timesteps;
    betas_ = std::move(s.betas);
    alphas_cumprod_ = std::move(s.alphas_cumprod);
    clip_sample_ = cfg.get_bool("clip_sample", true);
    clip_range_ = cfg.get_float("clip_sample_range", 1.0);
    thresholding_ = cfg.get_bool("thresholding", false);
    ratio_ = cfg.get_float("dynamic_thresholding_ratio", 0.995);
    max_value_ = cfg.get_float("sample_max_value", 1.0);
    final_alpha_cumprod_ = cfg.get_bool("set_alpha_to_one", true) ? 1.0f : alphas_cumprod_[0];
    steps_offset_ = int(cfg.get_int("steps_offset", 0));
    prediction_ = config_choice(cfg, "prediction_type", "epsilon", {"epsilon", "sample", "v_prediction"});
    spacing_ = config_choice(cfg, "timestep_spacing", "leading", {"linspace", "leading", "trailing"});
    for (int t = num_train_timesteps_ - 1; t >= 0; --t) timesteps_.push_back(t);
  }
  const char* class_name() const override { return "DDIMScheduler"; }

  void set_timesteps(int n) override {
    check_steps(n);
    num_inference_steps_ = n;
    timesteps_ = spaced_timesteps(spacing_, num_train_timesteps_, n, steps_offset_, true);
    timesteps_dtype_ = TimestepDType::I64;
  }

  StepOutput step(const Tensor& model_output_in, double timestep, const Tensor& sample_in,
                  const StepOptions& opts) override {
    IA_CHECK(num_inference_steps_ > 0, "DDIMScheduler.step: call set_timesteps first");
    const Tensor mo = f32_contiguous(model_output_in), x = f32_contiguous(sample_in);
    check_same_shape(mo, x, "DDIMScheduler.step: model_output");
    const int64_t t = int64_t(timestep);
    IA_CHECK(double(t) == timestep && t >= 0 && t < num_train_timesteps_, "DDIMScheduler.step: timestep ",
             timestep, " out of range");
    const int64_t prev_t = t - num_train_timesteps_ / num_inference_steps_;
    const float a_t = alphas_cumprod_[size_t(t)];
    const float a_prev = prev_t >= 0 ? alphas_cumprod_[size_t(prev_t)] : final_alpha_cumprod_;
    const float b_t = 1.0f - a_t;
    const float sa = std::pow(a_t, 0.5f), sb = std::pow(b_t, 0.5f);
    const int64_t n = x.numel();
    Tensor x0 = Tensor::f32(x.shape()), eps = Tensor::f32(x.shape());
    const float *m = mo.f32(), *s = x.f32();
    float *px0 = x0.f32(), *pe = eps.f32();
    const bool eps_pred = prediction_ == "epsilon", x0_pred = prediction_ == "sample";
    for (int64_t i = 0; i < n; ++i) {
      if (eps_pred) {
        px0[i] = (s[i] - sb * m[i]) / sa;
        pe[i] = m[i];
      } else if (x0_pred) {
        px0[i] = m[i];
        pe[i] = (s[i] - sa * m[i]) / sb;
      } else {
        px0[i] = sa * s[i] - sb * m[i];
        pe[i] = sa * m[i] + sb * s[i];
      }
    }
    if (thresholding_) {
      threshold_sample(x0, ratio_, max_value_);
    } else if (clip_sample_) {
      const float r = float(clip_range_);
      for (int64_t i = 0; i < n; ++i) px0[i] = std::clamp(px0[i], -r, r);
    }
    const float b_prev = 1.0f - a_prev;
    const float variance = (b_prev / b_t) * (1.0f - a_t / a_prev);
    const float std_dev = float(opts.eta) * std::pow(variance, 0.5f);
    const float dir = std::pow(1.0f - a_prev - std_dev * std_dev, 0.5f);
    const float sap = std::pow(a_prev, 0.5f);
    Tensor prev = Tensor::f32(x.shape());
    float* pp = prev.f32();
    for (int64_t i = 0; i < n; ++i) pp[i] = sap * px0[i] + dir * pe[i];
    if (opts.eta > 0) {
      const Tensor noise = step_noise(opts, x.shape(), "DDIMScheduler.step");
      const float* z = noise.f32();
      for (int64_t i = 0; i < n; ++i) pp[i] = pp[i] + std_dev * z[i];
    }
    return {prev, x0};
  }

  Tensor add_noise(const Tensor& original, const Tensor& noise, const std::vector<double>& timesteps) override {
    return add_noise_by_alphas(alphas_cumprod_, original, noise, timesteps);
  }

 private:
  bool clip_sample_ = true, thresholding_ = false;
  double clip_range_ = 1.0, ratio_ = 0.995, max_value_ = 1.0;
  float final_alpha_cumprod_ = 1.0f;
  int steps_offset_ = 0;
  std::string prediction_, spacing_;
};

}  // namespace

std::unique_ptr<Scheduler> make_ddim_scheduler(const HFConfig& cfg) { return std::make_unique<DDIMScheduler>(cfg); }

}  // namespace ia::diffusion
