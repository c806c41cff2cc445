// EulerDiscreteScheduler and EulerAncestralDiscreteScheduler (diffusers 0.30.3):
// k-diffusion style samplers over sigmas interpolated from the training
// schedule (optionally Karras sigmas), float timesteps.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "diffusion_schedulers/schedule_common.h"
#include "diffusion_schedulers/scheduler_classes.h"

namespace ia::diffusion {

namespace {

// What the two Euler classes share: sigma schedule, step index bookkeeping,
// scale_model_input and add_noise.
class SigmaScheduler : public Scheduler {
 public:
  float init_noise_sigma() const override {
    const float mx = sigmas_.empty() ? 1.0f : *std::max_element(sigmas_.begin(), sigmas_.end());
    if (spacing_ == "linspace" || spacing_ == "trailing") return mx;
    return std::pow(mx * mx + 1.0f, 0.5f);
  }

  Tensor scale_model_input(const Tensor& sample_in, double timestep) override {
    if (step_index_ < 0) init_step_index(timestep);
    const float sigma = sigmas_.at(size_t(step_index_));
    const float d = std::pow(sigma * sigma + 1.0f, 0.5f);
    const Tensor x = f32_contiguous(sample_in);
    Tensor out = Tensor::f32(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) out.f32()[i] = x.f32()[i] / d;
    return out;
  }

  Tensor add_noise(const Tensor& original, const Tensor& noise, const std::vector<double>& timesteps) override {
    std::vector<float> a, b;
    for (double t : timesteps) {
      int idx;
      if (begin_index_ < 0) {
        idx = index_for_timestep(timesteps_, t);
        IA_CHECK(idx >= 0, class_name(), ".add_noise: timestep ", t, " is not in the schedule");
      } else {
        idx = step_index_ >= 0 ? step_index_ : begin_index_;
      }
      a.push_back(1.0f);
      b.push_back(sigmas_.at(size_t(idx)));
    }
    return rowwise_combine(original, noise, a, b);
  }

  void set_begin_index(int i) override { begin_index_ = i; }

 protected:
  void read_common(const HFConfig& cfg, bool allow_rescale) {
    TrainSchedule s = make_train_schedule(cfg, allow_rescale);
    num_train_timesteps_ = s.num_train_timesteps;
    betas_ = std::move(s.betas);
    alphas_cumprod_ = std::move(s.alphas_cumprod);
    // Zero terminal SNR would make sigma infinite: diffusers pins alphas_cumprod[-1] to 2^-24.
    if (allow_rescale && cfg.get_bool("rescale_betas_zero_snr", false)) alphas_cumprod_.back() = std::ldexp(1.0f, -24);
    spacing_ = config_choice(cfg, "timestep_spacing", "linspace", {"linspace", "leading", "trailing"});
    steps_offset_ = int(cfg.get_int("steps_offset", 0));
    // Before set_timesteps: the full training sigmas, descending, plus a final 0.
    const std::vector<float> ts = train_sigmas(alphas_cumprod_);
    sigmas_.assign(ts.rbegin(), ts.rend());
    sigmas_.push_back(0.0f);
    for (int t = num_train_timesteps_ - 1; t >= 0; --t) timesteps_.push_back(t);
    timesteps_dtype_ = TimestepDType::F32;
  }

  // Float32 timesteps of the configured spacing (not rounded for 'linspace').
  std::vector<double> float_timesteps(int n) const {
    return spaced_timesteps(spacing_, num_train_timesteps_, n, steps_offset_, false);
  }

  void init_step_index(double timestep) {
    if (begin_index_ >= 0) {
      step_index_ = begin_index_;
      return;
    }
    step_index_ = index_for_timestep(timesteps_, timestep);
    IA_CHECK(step_index_ >= 0, class_name(), ": timestep ", timestep, " is not in the schedule");
  }

  void begin_step(double timestep) {
    IA_CHECK(num_inference_steps_ > 0, class_name(), ".step: call set_timesteps first");
    if (step_index_ < 0) init_step_index(timestep);
    IA_CHECK(size_t(step_index_) + 1 < sigmas_.size(), class_name(), ".step: called more times than scheduled");
  }

  void reset_index() {
    step_index_ = -1;
    begin_index_ = -1;
  }

  std::string spacing_;
  int steps_offset_ = 0;
  int step_index_ = -1, begin_index_ = -1;
};

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
    if (continuous_v()) {
      timesteps_.clear();
      for (size_t i = 0; i + 1 < sigmas_.size(); ++i) timesteps_.push_back(double(0.25f * std::log(sigmas_[i])));
    }
  }
  const char* class_name() const override { return "EulerDiscreteScheduler"; }

  void set_timesteps(int n) override {
    check_steps(n);
    num_inference_steps_ = n;
    std::vector<double> ts = float_timesteps(n);
    const std::vector<float> train = train_sigmas(alphas_cumprod_);
    std::vector<float> log_sigmas(train.size());
    for (size_t i = 0; i < train.size(); ++i) log_sigmas[i] = std::log(train[i]);
    std::vector<double> sig;
    if (interpolation_ == "linear") {
      for (double t : ts) sig.push_back(interp_index(t, train));
    } else {
      // torch.linspace(log sigma_min, log sigma_max, n + 1).exp() (float32), as diffusers has it.
      const float lo = std::log(train.back()), hi = std::log(train.front());
      const float step = (hi - lo) / float(n);
      for (int i = 0; i <= n; ++i) {
        const float v = i < (n + 1) / 2 ? lo + step * float(i) : hi - step * float(n - i);
        sig.push_back(double(std::exp(v)));
      }
    }
    if (karras_) {
      const double smin = sigma_min_ >= 0 ? sigma_min_ : sig.back();
      const double smax = sigma_max_ >= 0 ? sigma_max_ : sig.front();
      sig = karras_sigmas(smin, smax, n);
      ts.clear();
      for (double s : sig) ts.push_back(sigma_to_t(s, log_sigmas));
    }
    const float last = final_sigmas_ == "zero" ? 0.0f : std::pow((1 - alphas_cumprod_[0]) / alphas_cumprod_[0], 0.5f);
    sigmas_.clear();
    for (double s : sig) sigmas_.push_back(float(s));
    sigmas_.push_back(last);
    timesteps_.clear();
    if (continuous_v()) {
      for (size_t i = 0; i + 1 < sigmas_.size(); ++i) timesteps_.push_back(double(0.25f * std::log(sigmas_[i])));
    } else {
      for (double t : ts) timesteps_.push_back(double(float(t)));
    }
    timesteps_dtype_ = TimestepDType::F32;
    reset_index();
  }

  StepOutput step(const Tensor& model_output_in, double timestep, const Tensor& sample_in,
                  const StepOptions& opts) override {
    begin_step(timestep);
    const Tensor mo = f32_contiguous(model_output_in), x = f32_contiguous(sample_in);
    check_same_shape(mo, x, "EulerDiscreteScheduler.step: model_output");
    // diffusers draws the churn noise even when s_churn = 0 (it then goes unused); keep the
    // generator stream in step when the caller draws from one.
    if (opts.draw && !opts.noise) (void)opts.draw(x.shape());
    const float sigma = sigmas_[size_t(step_index_)];
    const float sigma_hat = sigma;  // gamma = 0 (s_churn = 0, the pipelines' default)
    const float dt = sigmas_[size_t(step_index_) + 1] - sigma_hat;
    Tensor prev = Tensor::f32(x.shape()), x0 = Tensor::f32(x.shape());
    const float *s = x.f32(), *m = mo.f32();
    float *pp = prev.f32(), *px0 = x0.f32();
    const float vden = std::pow(sigma * sigma + 1.0f, 0.5f), v2 = sigma * sigma + 1.0f;
    const bool eps_pred = prediction_ == "epsilon", v_pred = prediction_ == "v_prediction";
    for (int64_t i = 0; i < x.numel(); ++i) {
      float p0;
      if (eps_pred) p0 = s[i] - sigma_hat * m[i];
      else if (v_pred) p0 = m[i] * (-sigma / vden) + (s[i] / v2);
      else p0 = m[i];
      px0[i] = p0;
      const float deriv = (s[i] - p0) / sigma_hat;
      pp[i] = s[i] + deriv * dt;
    }
    ++step_index_;
    return {prev, x0};
  }

 private:
  bool continuous_v() const { return timestep_type_ == "continuous" && prediction_ == "v_prediction"; }
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
    const std::vector<double> ts = float_timesteps(n);
    const std::vector<float> train = train_sigmas(alphas_cumprod_);
    sigmas_.clear();
    for (double t : ts) sigmas_.push_back(float(interp_index(t, train)));
    sigmas_.push_back(0.0f);
    timesteps_.clear();
    for (double t : ts) timesteps_.push_back(double(float(t)));
    timesteps_dtype_ = TimestepDType::F32;
    reset_index();
  }

  StepOutput step(const Tensor& model_output_in, double timestep, const Tensor& sample_in,
                  const StepOptions& opts) override {
    begin_step(timestep);
    const Tensor mo = f32_contiguous(model_output_in), x = f32_contiguous(sample_in);
    check_same_shape(mo, x, "EulerAncestralDiscreteScheduler.step: model_output");
    const float sigma = sigmas_[size_t(step_index_)];
    const float sigma_to = sigmas_[size_t(step_index_) + 1];
    const float sigma_up = std::pow(sigma_to * sigma_to * (sigma * sigma - sigma_to * sigma_to) / (sigma * sigma), 0.5f);
    const float sigma_down = std::pow(sigma_to * sigma_to - sigma_up * sigma_up, 0.5f);
    const float dt = sigma_down - sigma;
    const Tensor noise = step_noise(opts, x.shape(), "EulerAncestralDiscreteScheduler.step");
    Tensor prev = Tensor::f32(x.shape()), x0 = Tensor::f32(x.shape());
    const float *s = x.f32(), *m = mo.f32(), *z = noise.f32();
    float *pp = prev.f32(), *px0 = x0.f32();
    const float vden = std::pow(sigma * sigma + 1.0f, 0.5f), v2 = sigma * sigma + 1.0f;
    const bool eps_pred = prediction_ == "epsilon";
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float p0 = eps_pred ? s[i] - sigma * m[i] : m[i] * (-sigma / vden) + (s[i] / v2);
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
