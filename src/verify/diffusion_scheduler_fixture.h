// `verify` for diffusers scheduler fixtures: a directory with
// scheduler_config.json + reference.json + reference.safetensors (the format of
// tests/fixtures/diffusion/README.md). Cases: schedule, set_timesteps_<N>,
// loop_<N>[_eta1] (chained steps with given model outputs and noise), add_noise.
#pragma once
#include <string>
#include <vector>

#include "verify/verify.h"

namespace ia {

bool is_diffusion_scheduler_fixture(const std::string& dir);
std::vector<CaseResult> verify_diffusion_scheduler_fixture(const std::string& dir, const std::string& rel,
                                                           const VerifyOptions& opts);

}  // namespace ia
