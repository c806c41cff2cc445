// The Scheduler base helpers and the factory that picks a class by `_class_name`.
#include <map>

#include "core/error.h"
#include "diffusion_schedulers/schedule_common.h"
#include "diffusion_schedulers/scheduler_classes.h"

namespace ia::diffusion {

namespace {
using Maker = std::unique_ptr<Scheduler> (*)(const HFConfig&);
const std::map<std::string, Maker>& makers() {
  static const std::map<std::string, Maker> m = {
      {"DDIMScheduler", make_ddim_scheduler},
      {"PNDMScheduler", make_pndm_scheduler},
      {"EulerDiscreteScheduler", make_euler_scheduler},
      {"EulerAncestralDiscreteScheduler", make_euler_ancestral_scheduler},
      {"LMSDiscreteScheduler", make_lms_scheduler},
      {"DPMSolverMultistepScheduler", make_dpm_multistep_scheduler},
  };
  return m;
}
}  // namespace

void Scheduler::check_steps(int n) const {
  IA_CHECK(n >= 1, "num_inference_steps must be at least 1, got ", n);
  IA_CHECK(n <= num_train_timesteps_, "num_inference_steps ", n, " cannot be larger than num_train_timesteps ",
           num_train_timesteps_);
}

Tensor Scheduler::timesteps_tensor() const {
  const int64_t n = int64_t(timesteps_.size());
  if (timesteps_dtype_ == TimestepDType::I64) {
    std::vector<int64_t> v;
    for (double t : timesteps_) v.push_back(int64_t(t));
    return Tensor::from_vector_i64(v, {n});
  }
  std::vector<float> v;
  for (double t : timesteps_) v.push_back(float(t));
  return Tensor::from_vector(v, {n});
}

const std::vector<std::string>& supported_scheduler_classes() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [k, _] : makers()) v.push_back(k);
    return v;
  }();
  return names;
}

std::unique_ptr<Scheduler> make_scheduler(const std::string& class_name, const HFConfig& config) {
  auto it = makers().find(class_name);
  if (it == makers().end()) {
    std::string list;
    for (const auto& n : supported_scheduler_classes()) list += (list.empty() ? "" : ", ") + n;
    fail(config.label(), ": scheduler class '", class_name, "' is not supported (supported: ", list, ")");
  }
  return it->second(config);
}

std::unique_ptr<Scheduler> make_scheduler(const HFConfig& config) {
  IA_CHECK(config.has("_class_name"), config.label(), ": missing field _class_name (the scheduler class)");
  return make_scheduler(config.get_string("_class_name"), config);
}

std::unique_ptr<Scheduler> load_scheduler(const std::string& path) { return make_scheduler(HFConfig::load(path)); }

}  // namespace ia::diffusion
