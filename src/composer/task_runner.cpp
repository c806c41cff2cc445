#include "composer/task_runner.h"

#include <filesystem>

#include "core/error.h"
#include "pipelines/pipeline_templates.h"
#include "pipelines/task_dispatch.h"
#include "registry/model_types.h"
#include "tokenizers/tokenizer.h"

namespace ia {

std::string pipeline_name_for(const std::string& model_type) {
  const ModelTypeInfo* info = find_model_type(model_type);
  if (!info) return "";
  const PipelineTemplate* p = pipeline_for_family(info->family);
  return p ? p->name : "";
}

std::vector<int64_t> generated_token_ids(const nlohmann::json& res) {
  IA_CHECK(res.contains("generation"), "the result has no 'generation' details");
  const nlohmann::json& g = res["generation"].is_array() ? res["generation"].at(0) : res["generation"];
  if (g.contains("sequences")) return g["sequences"].at(0).at("token_ids").get<std::vector<int64_t>>();
  return g.at("token_ids").get<std::vector<int64_t>>();
}

bool pipeline_implemented(const std::string& name) {
  for (const auto& b : pipeline_bindings())
    if (name == b.pipeline) return true;
  return false;
}

TaskRunner::TaskRunner(const std::string& model_dir) : dir_(model_dir) {
  ModelContext ctx = ModelContext::open(model_dir);
  pipeline_ = pipeline_name_for(ctx.model_type);
  if (!pipeline_implemented(pipeline_))
    throw Unsupported(cat(model_dir, ": the '", pipeline_.empty() ? "?" : pipeline_, "' pipeline template serving ",
                          ctx.model_type, " has no implementation in the task dispatcher of this build"));
  model_ = load_model(model_dir);
  dispatcher_ = std::make_unique<TaskDispatcher>(model_dir);
  if (std::filesystem::exists(std::filesystem::path(model_dir) / "tokenizer.json"))
    tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_dir(model_dir));
}

TaskRunner::~TaskRunner() = default;

Model& TaskRunner::model() { return *model_; }

nlohmann::json TaskRunner::run(const nlohmann::json& request) { return dispatcher_->run(request); }

nlohmann::json TaskRunner::run(const TaskInvocation& inv) {
  nlohmann::json r = {{"task", inv.task}, {"inputs", inv.inputs}};
  if (inv.max_new_tokens >= 0) r["max_new_tokens"] = inv.max_new_tokens;
  return run(r);
}

int64_t TaskRunner::count_tokens(const std::vector<std::string>& inputs) const {
  if (!tokenizer_) return 0;
  int64_t n = 0;
  for (const auto& s : inputs) n += int64_t(tokenizer_->encode(s, true).ids.size());
  return n;
}

}  // namespace ia
