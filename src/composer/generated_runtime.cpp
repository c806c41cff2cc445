#include "composer/generated_runtime.h"

#include <chrono>

#include "backends/hardware.h"
#include "composer/task_runner.h"
#include "core/error.h"
#include "pipelines/pipeline_result.h"

namespace ia::generated {

using json = nlohmann::json;

HardwareInit init_hardware(const std::string& name) {
  HardwareInit r;
  r.name = name;
  const HardwareTemplate* h = find_hardware(name);
  if (!h) {
    r.detail = cat("no hardware template named '", name, "' in this build of the library");
    return r;
  }
  HardwareStatus st = h->detect();
  r.description = st.description;
  r.detail = st.detail;
  r.present = st.present;
  r.implemented = st.implemented;
  return r;
}

struct Session::Impl {
  TaskRunner runner;
  explicit Impl(const std::string& dir) : runner(dir) {}
};

namespace {
// First key (depth-first) where two describe() documents differ, for the error message.
std::string first_difference(const json& want, const json& got, const std::string& path) {
  if (want.is_object() && got.is_object()) {
    for (auto it = want.begin(); it != want.end(); ++it) {
      std::string p = path.empty() ? it.key() : path + "." + it.key();
      if (!got.contains(it.key())) return p + " (missing)";
      std::string d = first_difference(it.value(), got[it.key()], p);
      if (!d.empty()) return d;
    }
    for (auto it = got.begin(); it != got.end(); ++it)
      if (!want.contains(it.key())) return (path.empty() ? it.key() : path + "." + it.key()) + " (unexpected)";
    return "";
  }
  if (want != got) return cat(path, ": generated for ", want.dump(), ", directory has ", got.dump());
  return "";
}
}  // namespace

Session::Session(const Composition& c, const std::string& model_dir) {
  ModelContext ctx = ModelContext::open(model_dir);
  IA_CHECK(ctx.model_type == c.model_type, model_dir, "/config.json: model_type is '", ctx.model_type,
           "' but this program was generated for '", c.model_type, "'");
  IA_CHECK(ctx.architecture == c.architecture, model_dir, "/config.json: architectures[0] is '", ctx.architecture,
           "' but this program was generated for '", c.architecture, "'");
  impl_ = std::make_unique<Impl>(model_dir);
  IA_CHECK(impl_->runner.pipeline_name() == c.pipeline, model_dir, ": served by the '", impl_->runner.pipeline_name(),
           "' pipeline, generated for '", c.pipeline, "'");
  IA_CHECK(family_name(impl_->runner.model().family()) == std::string(c.family), model_dir, ": family ",
           family_name(impl_->runner.model().family()), ", generated for ", c.family);
  json want = json::parse(c.template_params_json);
  std::string diff = first_difference(want, impl_->runner.model().describe(), "");
  IA_CHECK(diff.empty(), model_dir, ": template parameters differ from the generated composition: ", diff);
}

Session::~Session() = default;

TaskResult Session::run(const std::string& task, const std::vector<std::string>& inputs, int64_t max_new_tokens) {
  TaskResult r;
  auto t0 = std::chrono::steady_clock::now();
  json res;
  try {
    res = impl_->runner.run({task, inputs, max_new_tokens});
  } catch (const std::exception& e) {
    res = error_result(e.what());
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.json = res.dump(2);
  r.success = res.value("success", false);
  if (!r.success) {
    r.error = res.value("error", std::string("unknown error"));
    return r;
  }
  if (res.contains("generation") && res["generation"].is_array()) {
    for (const auto& g : res["generation"]) r.tokens += g.value("prompt_tokens", int64_t(0)) + g.value("new_tokens", int64_t(0));
    if (!res["generation"].empty()) r.generated_ids = res["generation"][0].value("token_ids", std::vector<int64_t>{});
  } else {
    try {
      r.tokens = impl_->runner.count_tokens(inputs);
    } catch (const std::exception&) {
      r.tokens = 0;  // non-text inputs: no token count
    }
  }
  return r;
}

}  // namespace ia::generated
