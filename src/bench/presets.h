// Built-in checkpoint presets for `make-checkpoint`: real model configs
// (GPT-2 small, TinyLlama-1.1B, BERT-base-uncased, ...) plus tiny variants for
// tests. A preset is data: the config.json / generation_config.json objects and
// the list of tensors (named as transformers' save_pretrained names them).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ia::bench {

// How a tensor is filled: random weights, or constant norm weights / biases.
enum class Init { Normal, Ones, Zeros };

struct TensorSpec {
  std::string name;
  Shape shape;
  Init init = Init::Normal;
};

struct Preset {
  std::string name;
  std::string description;
  nlohmann::json config;             // written as config.json
  nlohmann::json generation_config;  // written as generation_config.json (null: none)
  std::vector<TensorSpec> tensors;
  float init_std = 0.02f;  // std of Init::Normal tensors (config.initializer_range)
};

// ViTForImageClassification of the given shape (bench/presets_vision.cpp).
Preset vit_preset(const std::string& name, const std::string& desc, int64_t hidden, int64_t layers, int64_t heads,
                  int64_t intermediate, int64_t image, int64_t patch, int64_t labels);

// All preset names, in display order.
std::vector<std::string> preset_names();
// The preset called `name`; fails listing the known names otherwise.
Preset find_preset(const std::string& name);

}  // namespace ia::bench
