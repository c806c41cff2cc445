// diffusers (v0.30.3) noise schedulers, built from a scheduler_config.json:
// DDIM, PNDM (PRK + PLMS), Euler, Euler ancestral, LMS and DPM-Solver(++)
// multistep. Each reproduces its diffusers class's float32 arithmetic: the
// training schedule (betas, alphas_cumprod), set_timesteps, scale_model_input,
// step and add_noise. Random draws (DDIM eta > 0, Euler ancestral, SDE
// DPM-Solver) come from the caller: either given noise or a NoiseSource.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ia {
class HFConfig;
}

namespace ia::diffusion {

// Draws standard normal noise of a shape (the pipeline's seeded generator).
using NoiseSource = std::function<Tensor(const Shape&)>;

struct StepOptions {
  double eta = 0.0;          // DDIM: weight of the stochastic term
  const Tensor* noise = nullptr;  // the noise the step draws, when given
  NoiseSource draw;          // otherwise: where to draw it from (required when the step draws)
};

struct StepOutput {
  Tensor prev_sample;
  Tensor pred_original_sample;  // undefined for schedulers that do not report it (PNDM, DPM-Solver)
};

// How a scheduler keeps its timesteps (diffusers stores int64 or float tensors).
enum class TimestepDType { I64, F32, F64 };

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual const char* class_name() const = 0;
  // diffusers' `order` attribute (1 for every scheduler here); pipelines slice
  // timesteps by t_start * order.
  virtual int order() const { return 1; }

  const std::vector<float>& betas() const { return betas_; }
  const std::vector<float>& alphas_cumprod() const { return alphas_cumprod_; }
  int num_train_timesteps() const { return num_train_timesteps_; }

  virtual void set_timesteps(int num_inference_steps) = 0;
  const std::vector<double>& timesteps() const { return timesteps_; }
  TimestepDType timesteps_dtype() const { return timesteps_dtype_; }
  // Timesteps as a tensor of the dtype diffusers keeps them in (I64 or F32/F64 → F32).
  Tensor timesteps_tensor() const;
  // Karras-style schedulers: the sigma of every timestep plus the final one; empty otherwise.
  const std::vector<float>& sigmas() const { return sigmas_; }
  virtual float init_noise_sigma() const { return 1.0f; }

  virtual Tensor scale_model_input(const Tensor& sample, double timestep) { return sample; }
  virtual StepOutput step(const Tensor& model_output, double timestep, const Tensor& sample,
                          const StepOptions& opts) = 0;
  // original + noise at the given (scheduled) timesteps, one per batch row.
  virtual Tensor add_noise(const Tensor& original, const Tensor& noise, const std::vector<double>& timesteps) = 0;
  // img2img starts part way: diffusers' set_begin_index (no-op for schedulers without one).
  virtual void set_begin_index(int) {}

 protected:
  void check_steps(int n) const;
  int num_train_timesteps_ = 1000;
  std::vector<float> betas_, alphas_cumprod_, sigmas_;
  std::vector<double> timesteps_;
  TimestepDType timesteps_dtype_ = TimestepDType::I64;
  int num_inference_steps_ = 0;
};

// The scheduler classes this engine implements (for error messages and the CLI).
const std::vector<std::string>& supported_scheduler_classes();

// Builds the scheduler named by the config's `_class_name`.
std::unique_ptr<Scheduler> make_scheduler(const HFConfig& config);
// Builds `class_name` from another scheduler's config, as diffusers'
// <Class>.from_config(config) does (keys the class does not take are ignored).
std::unique_ptr<Scheduler> make_scheduler(const std::string& class_name, const HFConfig& config);
std::unique_ptr<Scheduler> load_scheduler(const std::string& scheduler_config_path);

}  // namespace ia::diffusion
