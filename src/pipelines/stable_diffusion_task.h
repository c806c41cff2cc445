// The `run` / server entry for Stable Diffusion pipeline directories: turns a
// request (prompt, options, image and mask files) into the diffusion pipeline
// template's result, {"success": true, "diffusion_output": {images: [base64 PNG],
// count, parameters, task_type, ...}, "device", "hardware"}.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace ia {

// A diffusers Stable Diffusion pipeline directory (model_index.json naming a
// StableDiffusion*Pipeline).
bool is_stable_diffusion_dir(const std::string& dir);

struct SdTaskArgs {
  std::string model_dir, task;  // task "" = text-to-image (image-to-image / inpainting with --image / --mask)
  std::string prompt, negative_prompt;
  std::string image, mask;      // file paths (or "-", data URIs, base64) for image-to-image / inpainting
  int steps = -1;               // -1: 50
  double guidance = NAN, strength = NAN, eta = 0.0;
  int64_t height = 0, width = 0;
  int64_t seed = 0;
  bool seed_given = false;
  std::string scheduler;        // scheduler class override
  std::string out;              // also write the PNG here
};

// Never throws: errors come back as {"success": false, "error": ...}.
nlohmann::json run_stable_diffusion_task(const SdTaskArgs& a);

}  // namespace ia
