// `verify` for diffusers model component fixtures: a directory whose config.json names
// "_class_name" UNet2DConditionModel or AutoencoderKL, with reference.json +
// reference.safetensors (cases forward / forward_float_t for U-Nets; encode,
// sample_posterior, decode, forward for VAEs; intermediate.* outputs included).
#pragma once
#include <string>
#include <vector>

#include "verify/verify.h"

namespace ia {

bool is_diffusers_component_fixture(const std::string& dir);
std::vector<CaseResult> verify_diffusers_component_fixture(const std::string& dir, const std::string& rel,
                                                           const VerifyOptions& opts);

}  // namespace ia
