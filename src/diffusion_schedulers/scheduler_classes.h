// Constructors of the individual scheduler classes (one file each); the factory
// in scheduler_factory.cpp picks one by `_class_name`. Internal.
#pragma once
#include <memory>

#include "diffusion_schedulers/scheduler.h"
#include "formats/hf_config.h"

namespace ia::diffusion {

std::unique_ptr<Scheduler> make_ddim_scheduler(const HFConfig& cfg);
std::unique_ptr<Scheduler> make_pndm_scheduler(const HFConfig& cfg);
std::unique_ptr<Scheduler> make_euler_scheduler(const HFConfig& cfg);
std::unique_ptr<Scheduler> make_euler_ancestral_scheduler(const HFConfig& cfg);
std::unique_ptr<Scheduler> make_lms_scheduler(const HFConfig& cfg);
std::unique_ptr<Scheduler> make_dpm_multistep_scheduler(const HFConfig& cfg);

}  // namespace ia::diffusion
