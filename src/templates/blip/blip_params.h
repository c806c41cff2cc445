// BlipConfig's text and vision sub-configs with the 4.44.2 defaults.
#pragma once
#include <cstdint>
#include <string>

#include "formats/hf_config.h"

namespace ia {

struct BlipVisionParams {
  int64_t hidden = 768, intermediate = 3072, layers = 12, heads = 12, image_size = 384, patch_size = 16;
  std::string act = "gelu";
  float eps = 1e-5f;
  int64_t num_positions() const { return (image_size / patch_size) * (image_size / patch_size) + 1; }
};

struct BlipTextParams {
  int64_t vocab = 30524, hidden = 768, encoder_hidden = 768, intermediate = 3072, layers = 12, heads = 8;
  int64_t max_positions = 512;
  std::string act = "gelu";
  float eps = 1e-12f;
  int64_t bos_token_id = 30522, eos_token_id = 2, pad_token_id = 0, sep_token_id = 102;
  bool has_pad = true;
};

struct BlipParams {
  BlipVisionParams vision;
  BlipTextParams text;
  int64_t projection_dim = 512;
  static BlipParams from_config(const HFConfig& cfg);
};

}  // namespace ia
