// The base of diffusers' sigma-parameterised (k-diffusion style) schedulers,
// Euler, Euler ancestral and LMS: what their classes repeat in diffusers 0.30.3
// (the sigma schedule of set_timesteps, step-index bookkeeping,
// init_noise_sigma, scale_model_input, add_noise). Internal to src/diffusion_schedulers.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "diffusion_schedulers/scheduler.h"
#include "formats/hf_config.h"

namespace ia::diffusion {

// How a sigma scheduler turns the spaced timesteps into inference sigmas.
struct SigmaSpacing {
  bool log_linear = false;  // Euler's interpolation_type "log_linear" (else "linear": interp at each timestep)
  bool karras = false;      // use_karras_sigmas: timesteps are recomputed from the Karras sigmas
  double sigma_min = -1, sigma_max = -1;  // Karras end points from the config; < 0: the schedule's own ends
};

// pred_original_sample of a sigma scheduler's step() at noise level `sigma`, in
// float32 as diffusers computes it, for prediction_type "epsilon", "v_prediction"
// or anything else (the model predicts the sample itself). The type is resolved
// once per step, not per element.
class OriginalSample {
 public:
  OriginalSample(const std::string& prediction, float sigma)
      : kind_(prediction == "epsilon" ? Kind::Epsilon : prediction == "v_prediction" ? Kind::V : Kind::Sample),
        sigma_(sigma),
        vden_(std::pow(sigma * sigma + 1.0f, 0.5f)),
        v2_(sigma * sigma + 1.0f) {}
  float operator()(float sample, float model_output) const {
    switch (kind_) {
      case Kind::Epsilon: return sample - sigma_ * model_output;
      case Kind::V: return model_output * (-sigma_ / vden_) + (sample / v2_);
      case Kind::Sample: break;
    }
    return model_output;
  }

 private:
  enum class Kind { Epsilon, V, Sample } kind_;
  float sigma_, vden_, v2_;
};

class SigmaScheduler : public Scheduler {
 public:
  float init_noise_sigma() const override;
  Tensor scale_model_input(const Tensor& sample, double timestep) override;
  Tensor add_noise(const Tensor& original, const Tensor& noise, const std::vector<double>& timesteps) override;
  void set_begin_index(int i) override { begin_index_ = i; }

 protected:
  // The config keys every sigma scheduler reads (training schedule, timestep_spacing,
  // steps_offset) and the pre-set_timesteps state of its __init__: the full training
  // sigmas, descending, plus a final 0. `allow_rescale`: takes rescale_betas_zero_snr.
  void read_common(const HFConfig& cfg, bool allow_rescale);

  // The inference sigmas (descending, without the final one) at the `n` timesteps of
  // the configured spacing; `timesteps` gets those timesteps (float32 values), or with
  // Karras sigmas the fractional timesteps diffusers recomputes from them (float64).
  std::vector<double> inference_sigmas(int n, const SigmaSpacing& how, std::vector<double>& timesteps) const;
  // sigmas_ = the given sigmas (as float32) followed by `final_sigma`.
  void set_sigmas(const std::vector<double>& sigmas, float final_sigma);
  // The end of set_timesteps: timesteps_ = `ts` kept as `dtype` (F32 rounds each to
  // float32), and the step index reset.
  void set_timesteps_as(const std::vector<double>& ts, TimestepDType dtype);

  // The start of step(): checks set_timesteps ran and a step is left, finds the step
  // index on the first call, and returns the model output and the sample as contiguous
  // F32 tensors of one shape.
  struct StepInputs {
    Tensor model_output, sample;
  };
  StepInputs begin_step(const Tensor& model_output, double timestep, const Tensor& sample);
  void init_step_index(double timestep);
  void reset_index() {
    step_index_ = -1;
    begin_index_ = -1;
  }

  std::string spacing_;
  int steps_offset_ = 0;
  int step_index_ = -1, begin_index_ = -1;
};

}  // namespace ia::diffusion
