// `verify` for Stable Diffusion pipeline fixtures: a diffusers pipeline directory
// (model_index.json + components) with reference.json + reference.safetensors.
// Each case runs the pipeline with the reference's inputs and given noise and
// compares every output the reference has (prompt ids and embeddings, timesteps,
// every UNet input/output, step latents, decoded and final image, mask latents).
#pragma once
#include <string>
#include <vector>

#include "verify/verify.h"

namespace ia {

bool is_diffusion_pipeline_fixture(const std::string& dir);
std::vector<CaseResult> verify_diffusion_pipeline_fixture(const std::string& dir, const std::string& rel,
                                                          const VerifyOptions& opts);

}  // namespace ia
