#include "diffusion_schedulers/sigma_scheduler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "diffusion_schedulers/schedule_common.h"

namespace ia::diffusion {

float SigmaScheduler::init_noise_sigma() const {
  const float mx = sigmas_.empty() ? 1.0f : *std::max_element(sigmas_.begin(), sigmas_.end());
  if (spacing_ == "linspace" || spacing_ == "trailing") return mx;
  return std::pow(mx * mx + 1.0f, 0.5f);
}

Tensor SigmaScheduler::scale_model_input(const Tensor& sample_in, double timestep) {
  if (step_index_ < 0) init_step_index(timestep);
  const float sigma = sigmas_.at(size_t(step_index_));
  const float d = std::pow(sigma * sigma + 1.0f, 0.5f);
  const Tensor x = f32_contiguous(sample_in);
  Tensor out = Tensor::f32(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out.f32()[i] = x.f32()[i] / d;
  return out;
}

Tensor SigmaScheduler::add_noise(const Tensor& original, const Tensor& noise, const std::vector<double>& timesteps) {
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

void SigmaScheduler::read_common(const HFConfig& cfg, bool allow_rescale) {
  TrainSchedule s = make_train_schedule(cfg, allow_rescale);
  num_train_timesteps_ = s.num_train_timesteps;
  betas_ = std::move(s.betas);
  alphas_cumprod_ = std::move(s.alphas_cumprod);
  // Zero terminal SNR would make sigma infinite: diffusers pins alphas_cumprod[-1] to 2^-24.
  if (allow_rescale && cfg.get_bool("rescale_betas_zero_snr", false)) alphas_cumprod_.back() = std::ldexp(1.0f, -24);
  spacing_ = config_choice(cfg, "timestep_spacing", "linspace", {"linspace", "leading", "trailing"});
  steps_offset_ = int(cfg.get_int("steps_offset", 0));
  const std::vector<float> ts = train_sigmas(alphas_cumprod_);
  sigmas_.assign(ts.rbegin(), ts.rend());
  sigmas_.push_back(0.0f);
  for (int t = num_train_timesteps_ - 1; t >= 0; --t) timesteps_.push_back(t);
  timesteps_dtype_ = TimestepDType::F32;
}

std::vector<double> SigmaScheduler::inference_sigmas(int n, const SigmaSpacing& how,
                                                     std::vector<double>& timesteps) const {
  // Float32 timesteps of the configured spacing (not rounded for 'linspace').
  timesteps = spaced_timesteps(spacing_, num_train_timesteps_, n, steps_offset_, false);
  const TrainSigmas train(alphas_cumprod_);
  std::vector<double> sig;
  if (!how.log_linear) {
    sig = train.at_timesteps(timesteps);
  } else {
    // torch.linspace(log sigma_min, log sigma_max, n + 1).exp() (float32), as diffusers has it.
    const float lo = train.log_sigma.back(), hi = train.log_sigma.front();
    const float step = (hi - lo) / float(n);
    for (int i = 0; i <= n; ++i) {
      const float v = i < (n + 1) / 2 ? lo + step * float(i) : hi - step * float(n - i);
      sig.push_back(double(std::exp(v)));
    }
  }
  if (how.karras) {
    const double smin = how.sigma_min >= 0 ? how.sigma_min : sig.back();
    const double smax = how.sigma_max >= 0 ? how.sigma_max : sig.front();
    sig = karras_sigmas(smin, smax, n);
    timesteps = train.timesteps_of(sig);
  }
  return sig;
}

void SigmaScheduler::set_sigmas(const std::vector<double>& sigmas, float final_sigma) {
  sigmas_.clear();
  for (double s : sigmas) sigmas_.push_back(float(s));
  sigmas_.push_back(final_sigma);
}

void SigmaScheduler::init_step_index(double timestep) {
  if (begin_index_ >= 0) {
    step_index_ = begin_index_;
    return;
  }
  step_index_ = index_for_timestep(timesteps_, timestep);
  IA_CHECK(step_index_ >= 0, class_name(), ": timestep ", timestep, " is not in the schedule");
}

void SigmaScheduler::set_timesteps_as(const std::vector<double>& ts, TimestepDType dtype) {
  timesteps_.clear();
  for (double t : ts) timesteps_.push_back(dtype == TimestepDType::F32 ? double(float(t)) : t);
  timesteps_dtype_ = dtype;
  reset_index();
}

SigmaScheduler::StepInputs SigmaScheduler::begin_step(const Tensor& model_output, double timestep,
                                                      const Tensor& sample) {
  IA_CHECK(num_inference_steps_ > 0, class_name(), ".step: call set_timesteps first");
  if (step_index_ < 0) init_step_index(timestep);
  IA_CHECK(size_t(step_index_) + 1 < sigmas_.size(), class_name(), ".step: called more times than scheduled");
  StepInputs in{f32_contiguous(model_output), f32_contiguous(sample)};
  check_same_shape(in.model_output, in.sample, cat(class_name(), ".step: model_output").c_str());
  return in;
}

}  // namespace ia::diffusion
