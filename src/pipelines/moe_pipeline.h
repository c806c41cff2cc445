// The mixture-of-experts pipeline template: the text tasks of a MoE model with
// the routing made visible.
//   text-generation      -> "moe_generation"      (decoder MoE: mixtral, qwen2_moe)
//   text2text-generation -> "moe_generation"      (switch_transformers)
//   feature-extraction   -> "moe_output"
//   text-classification  -> "moe_classification"
// Every result carries "expert_info" (moe_expert_info.h) computed from the
// routing of that request; with several inputs, one per input ("expert_info" is
// then a list). `experts_per_token` overrides num_experts_per_tok (0 = config).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "pipelines/text_pipeline.h"

namespace ia {

class MoeModel;
class SwitchModel;

struct MoeOptions {
  int64_t experts_per_token = 0;
};

class MoePipeline {
 public:
  explicit MoePipeline(const std::string& model_dir);
  // Never throws: failures become {"success": false, "error": ...}.
  nlohmann::json run(const TextRequest& req, const MoeOptions& opts);
  GenerationSettings generation_defaults() const { return text_.generation_defaults(); }

 private:
  nlohmann::json run_one(const TextRequest& req);

  TextPipeline text_;
  MoeModel* moe_ = nullptr;      // decoder-only MoE
  SwitchModel* switch_ = nullptr;  // encoder-decoder MoE
};

}  // namespace ia
