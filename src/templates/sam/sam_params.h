// SAM's three sub-configs (SamVisionConfig, SamPromptEncoderConfig,
// SamMaskDecoderConfig) read from config.json with the 4.44.2 defaults.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "formats/hf_config.h"

namespace ia {

struct SamVisionParams {
  int64_t hidden = 768, output_channels = 256, layers = 12, heads = 12, num_channels = 3;
  int64_t image_size = 1024, patch_size = 16;
  std::string act = "gelu";
  float eps = 1e-6f;
  bool qkv_bias = true, use_abs_pos = true, use_rel_pos = true;
  int64_t window_size = 14;
  std::vector<int64_t> global_attn_indexes{2, 5, 8, 11};
  int64_t num_pos_feats = 128;
  int64_t mlp_dim = 3072;  // int(hidden * mlp_ratio) unless mlp_dim is given
  int64_t grid() const { return image_size / patch_size; }
  // Layer i attends within windows of this size; 0 = global attention.
  int64_t window_of(int64_t layer) const;
};

struct SamPromptParams {
  int64_t hidden = 256, image_size = 1024, patch_size = 16, mask_input_channels = 16, num_point_embeddings = 4;
  std::string act = "gelu";
  float eps = 1e-6f;
  // SamPromptEncoderConfig recomputes this from image_size // patch_size, ignoring a stored value.
  int64_t embedding_size() const { return image_size / patch_size; }
};

struct SamDecoderParams {
  int64_t hidden = 256, mlp_dim = 2048, layers = 2, heads = 8, attention_downsample_rate = 2;
  int64_t num_multimask_outputs = 3, iou_head_depth = 3, iou_head_hidden_dim = 256;
  std::string act = "relu";
  float eps = 1e-6f;
};

struct SamParams {
  SamVisionParams vision;
  SamPromptParams prompt;
  SamDecoderParams decoder;
  static SamParams from_config(const HFConfig& cfg);
};

}  // namespace ia
