#include "composer/task_runner.h"

#include "core/error.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/pipeline_templates.h"
#include "pipelines/text_pipeline.h"
#include "registry/model_types.h"

namespace ia {

namespace {
// Pipeline templates the task runner dispatches: "text" through TextPipeline, with the
// request `ipfs-accelerate run` builds. Other pipeline implementations (moe, state-space,
// text2text, image, audio, ...) live in cmd_run's dispatch and still need a branch here
// (and the same defaults) before generated programs and the matrix can use them;
// until then the types they serve are reported as not dispatched, never run differently.
bool served_by_text_pipeline(const std::string& name) { return name == "text"; }
}  // namespace

std::string pipeline_name_for(const std::string& model_type) {
  const ModelTypeInfo* info = find_model_type(model_type);
  if (!info) return "";
  const PipelineTemplate* p = pipeline_for_family(info->family);
  return p ? p->name : "";
}

bool pipeline_implemented(const std::string& name) { return served_by_text_pipeline(name); }

TaskRunner::TaskRunner(const std::string& model_dir) {
  ModelContext ctx = ModelContext::open(model_dir);
  pipeline_ = pipeline_name_for(ctx.model_type);
  if (!pipeline_implemented(pipeline_))
    throw Unsupported(cat(model_dir, ": the '", pipeline_.empty() ? "?" : pipeline_, "' pipeline template serving ",
                          ctx.model_type, " is not dispatched by the composer's task runner in this build"));
  text_ = std::make_unique<TextPipeline>(model_dir);
}

TaskRunner::~TaskRunner() = default;

Model& TaskRunner::model() { return text_->model(); }

nlohmann::json TaskRunner::run(const TaskInvocation& inv) {
  try {
    // The same request `ipfs-accelerate run` builds from its default options.
    TextRequest req;
    req.task = inv.task;
    req.inputs = inv.inputs;
    req.top_k = 5;
    req.generation = text_->generation_defaults();
    if (inv.max_new_tokens >= 0) req.generation.max_new_tokens = inv.max_new_tokens;
    req.generation.sampling.seed = 0;
    return text_->run(req);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

int64_t TaskRunner::count_tokens(const std::vector<std::string>& inputs) const {
  int64_t n = 0;
  for (const auto& s : inputs) n += int64_t(text_->tokenizer().encode(s, true).ids.size());
  return n;
}

}  // namespace ia
