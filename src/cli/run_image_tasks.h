// `run` for the SAM mask-generation and BLIP image-to-text pipelines: decides
// from --task / the checkpoint's model_type whether a request is one of them.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ia::cli {

struct ImageTaskArgs {
  std::string model_dir, task;
  std::string image;            // --image, or --input when it names the image
  std::string prompt;           // image-to-text: optional text prompt
  std::string points, labels, box, out_dir;  // mask-generation prompts and output
  bool single_mask = false, no_rle = false;
  int64_t max_new_tokens = -1;
};

// The pipeline result, or nullopt when neither pipeline applies (the caller runs the text pipeline).
std::optional<nlohmann::json> run_image_task(const ImageTaskArgs& a);

}  // namespace ia::cli
