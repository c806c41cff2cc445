// The state-space pipeline template: the text tasks of a mamba / mamba2 / rwkv
// model with what is special about a recurrent state made explicit.
//   text-generation     -> "state_space_generation" (+ "state_info")
//   feature-extraction  -> "state_space_output"
//   text-classification -> "state_space_classification"
// Options: the prompt is prefilled in chunks of `chunk_size` tokens (same logits
// as one pass); `load_state` continues from a state file instead of a fresh
// state (the input is then a continuation: no special tokens are added);
// `save_state` writes the state after the prompt and every generated token, so a
// later run with --load-state continues exactly where this one stopped.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "pipelines/text_pipeline.h"

namespace ia {

class StateSpaceModel;

struct StateSpaceOptions {
  int64_t chunk_size = 0;  // <= 0: the prompt in one piece
  std::string save_state, load_state;
};

class StateSpacePipeline {
 public:
  explicit StateSpacePipeline(const std::string& model_dir);
  // Never throws: failures become {"success": false, "error": ...}.
  nlohmann::json run(const TextRequest& req, const StateSpaceOptions& opts);
  GenerationSettings generation_defaults() const { return text_.generation_defaults(); }

 private:
  nlohmann::json generate(const TextRequest& req, const StateSpaceOptions& opts);
  nlohmann::json state_info(int64_t tokens_in_state, const StateSpaceOptions& opts) const;

  TextPipeline text_;
  StateSpaceModel* model_ = nullptr;
};

}  // namespace ia
