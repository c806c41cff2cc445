// A diffusers model component directory (unet/, vae/, or a bare save_pretrained output):
// config.json with "_class_name" plus diffusion_pytorch_model[.fp16].safetensors (or its
// sharded .index.json). Also the small config readers diffusers' "int or per-block list"
// options need.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "formats/checkpoint.h"
#include "formats/hf_config.h"

namespace ia::diffusion {

// "_class_name" of dir/config.json, or "" when the file is missing, unreadable or has none.
std::string diffusers_class_name(const std::string& dir);
// config.json of a component directory, checked to declare `expected_class`.
HFConfig load_component_config(const std::string& dir, const std::string& expected_class);
// The component's weights; errors name the directory and the files looked for.
std::shared_ptr<const Checkpoint> open_component_weights(const std::string& dir);

// An option diffusers accepts as one int (repeated per block) or a list of exactly `n`
// (missing/null -> `def` repeated). Errors name the file and field.
std::vector<int64_t> int_per_block(const HFConfig& cfg, const std::string& key, size_t n, int64_t def);
std::vector<bool> bool_per_block(const HFConfig& cfg, const std::string& key, size_t n, bool def);
std::vector<std::string> string_list(const HFConfig& cfg, const std::string& key);
std::vector<int64_t> int_list(const HFConfig& cfg, const std::string& key);

}  // namespace ia::diffusion
