// Runs one task of a model directory through the pipeline template that serves the
// model's family, with the defaults `ipfs-accelerate run` uses. Shared by generated
// programs (generated_runtime) and the compatibility matrix, so both exercise the
// same composition the CLI runs.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "templates/model.h"

namespace ia {

class TextPipeline;

struct TaskInvocation {
  std::string task;
  std::vector<std::string> inputs;
  int64_t max_new_tokens = -1;  // < 0: generation_config.json / 20
};

class TaskRunner {
 public:
  // Loads the model, its tokenizer and the pipeline for its family. Throws
  // ia::Unsupported when this build has no implementation of that pipeline template.
  explicit TaskRunner(const std::string& model_dir);
  ~TaskRunner();
  // The pipeline's result JSON; never throws (errors become {"success": false, ...}).
  nlohmann::json run(const TaskInvocation& inv);
  Model& model();
  const std::string& pipeline_name() const { return pipeline_; }
  // Tokens the inputs encode to (for throughput figures).
  int64_t count_tokens(const std::vector<std::string>& inputs) const;

 private:
  std::string pipeline_;
  std::unique_ptr<TextPipeline> text_;
};

// Name of the pipeline template serving `model_type` ("" when the type is unknown).
std::string pipeline_name_for(const std::string& model_type);
// True when this build implements the pipeline template `name`.
bool pipeline_implemented(const std::string& name);

}  // namespace ia
