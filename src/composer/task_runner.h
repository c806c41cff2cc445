// Runs tasks of a model directory through the library's task dispatcher
// (pipelines/task_dispatch.h) — the same path `ipfs-accelerate run` and the
// server take, with the same defaults. Shared by generated programs
// (generated_runtime) and the compatibility matrix, so both exercise the
// composition the CLI runs. Also holds the model itself for checks (tasks,
// template parameters, forward passes to compare pipeline outputs with).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "templates/model.h"

namespace ia {

class TaskDispatcher;
class Tokenizer;

struct TaskInvocation {
  std::string task;
  std::vector<std::string> inputs;
  int64_t max_new_tokens = -1;  // < 0: generation_config.json / 20
};

class TaskRunner {
 public:
  // Loads the model. Throws ia::Unsupported when no pipeline of this build
  // implements the pipeline template serving the model's family.
  explicit TaskRunner(const std::string& model_dir);
  ~TaskRunner();
  // The pipeline's result JSON for a dispatcher request; never throws.
  nlohmann::json run(const nlohmann::json& request);
  nlohmann::json run(const TaskInvocation& inv);
  Model& model();
  const std::string& model_dir() const { return dir_; }
  const std::string& pipeline_name() const { return pipeline_; }
  // Tokens the text inputs encode to (0 without a tokenizer; for throughput figures).
  int64_t count_tokens(const std::vector<std::string>& inputs) const;

 private:
  std::string dir_, pipeline_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<TaskDispatcher> dispatcher_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

// New token ids of the first input from any generating pipeline's result (text /
// moe: generation[0].token_ids; text2text: generation[0].sequences[0]; state-space:
// generation.token_ids). Throws ia::Error when the result has none.
std::vector<int64_t> generated_token_ids(const nlohmann::json& result);

// Name of the pipeline template serving `model_type` ("" when the type is unknown).
std::string pipeline_name_for(const std::string& model_type);
// True when the task dispatcher has a pipeline implementing the template `name`.
bool pipeline_implemented(const std::string& name);

}  // namespace ia
