// Pieces the diffusers schedulers share: the training beta schedule, timestep
// spacing, sigma <-> timestep conversion, Karras sigmas, dynamic thresholding
// and the element-wise tensor arithmetic of step(). Internal to src/diffusion_schedulers.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "diffusion_schedulers/scheduler.h"
#include "formats/hf_config.h"

namespace ia::diffusion {

// Config options every scheduler here reads (each class reads only the keys its
// diffusers __init__ takes; `allow_rescale` is whether it takes rescale_betas_zero_snr).
struct TrainSchedule {
  int num_train_timesteps = 1000;
  std::vector<float> betas, alphas_cumprod;
};
TrainSchedule make_train_schedule(const HFConfig& cfg, bool allow_rescale);

// Checks a string option against its allowed values (error names file and field).
std::string config_choice(const HFConfig& cfg, const std::string& key, const std::string& def,
                          const std::vector<std::string>& allowed);

// timestep_spacing "linspace" / "leading" / "trailing" as DDIM/Euler/LMS compute it
// (descending; doubles holding the exact values numpy produced before the final cast).
std::vector<double> spaced_timesteps(const std::string& spacing, int num_train, int n, int steps_offset,
                                     bool linspace_rounded);

// sigma_t = sqrt((1 - alphas_cumprod) / alphas_cumprod) in float32, ascending in t.
std::vector<float> train_sigmas(const std::vector<float>& alphas_cumprod);
// numpy.interp(x, arange(len(fp)), fp).
double interp_index(double x, const std::vector<float>& fp);
// diffusers' _sigma_to_t: fractional timestep of `sigma` against log(train sigmas).
double sigma_to_t(double sigma, const std::vector<float>& log_sigmas);

// The training sigmas (ascending in t) and their logs, float32: what the sigma-based
// set_timesteps (Euler, Euler ancestral, LMS, DPM-Solver) interpolate in and invert.
struct TrainSigmas {
  explicit TrainSigmas(const std::vector<float>& alphas_cumprod);
  std::vector<float> sigma, log_sigma;
  // The sigma at each (fractional) timestep, interpolated linearly.
  std::vector<double> at_timesteps(const std::vector<double>& timesteps) const;
  // The fractional timestep of each sigma (_sigma_to_t).
  std::vector<double> timesteps_of(const std::vector<double>& sigmas) const;
};
// The sigma after the last step: 0 for final_sigmas_type "zero", else ("sigma_min")
// ((1 - alphas_cumprod[0]) / alphas_cumprod[0]) ** 0.5 in float32.
float final_sigma(const std::string& final_sigmas_type, const std::vector<float>& alphas_cumprod);
// Karras et al. (2022) rho=7 sigmas from sigma_max down to sigma_min.
std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int n);

// diffusers' _threshold_sample: per batch row, s = clamp(quantile(|x|, ratio), 1, max);
// x = clamp(x, -s, s) / s.
void threshold_sample(Tensor& x, double ratio, double max_value);

// Index of `t` in `schedule` as diffusers' index_for_timestep (the second match when
// a timestep occurs twice); else the nearest within 1e-5 relative; -1 when absent.
int index_for_timestep(const std::vector<double>& schedule, double t);

// add_noise of the alpha-parameterised schedulers (DDIM, PNDM):
// sqrt(ac[t]) * x + sqrt(1 - ac[t]) * noise, one timestep per batch row.
Tensor add_noise_by_alphas(const std::vector<float>& alphas_cumprod, const Tensor& original, const Tensor& noise,
                           const std::vector<double>& timesteps);
// Row scale helper for sigma-based add_noise: out = a[row] * x + b[row] * noise.
Tensor rowwise_combine(const Tensor& x, const Tensor& noise, const std::vector<float>& a, const std::vector<float>& b);

// Element-wise helpers over F32 tensors of one shape.
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);
Tensor f32_contiguous(const Tensor& t);
// Validates a noise tensor given or drawn for a step.
Tensor step_noise(const StepOptions& opts, const Shape& shape, const char* who);

}  // namespace ia::diffusion
