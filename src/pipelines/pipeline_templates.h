// Pipeline templates: the input/output modality side of a composition. Each
// architecture family is served by exactly one pipeline template; a pipeline
// lists the tasks it can run and the result key each task returns
// ({"success": true, <key>: ..., "device": ..., "hardware": ...}).
#pragma once
#include <string>
#include <vector>

#include "templates/family.h"

namespace ia {

struct PipelineTask {
  std::string task;        // "text-generation", "fill-mask", ...
  std::string result_key;  // key of the task's payload in the result JSON
};

struct PipelineTemplate {
  std::string name;   // "text", "image", "vision-text", "audio", "multimodal", "diffusion", "moe", "state-space", "rag"
  std::string input;  // modality in
  std::string output; // modality out
  bool supports_batching = true;
  std::vector<Family> families;
  std::vector<PipelineTask> tasks;
};

const std::vector<PipelineTemplate>& pipeline_templates();
const PipelineTemplate* find_pipeline(const std::string& name);
// The pipeline serving `f`; every one of the 11 families has one (checked by tests).
const PipelineTemplate* pipeline_for_family(Family f);

}  // namespace ia
