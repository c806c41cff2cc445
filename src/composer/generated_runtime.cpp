#include "composer/generated_runtime.h"

#include <chrono>
#include <filesystem>

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

std::string text_request(const std::string& input, int64_t max_new_tokens) {
  json q = {{"inputs", {input}}};
  if (max_new_tokens >= 0) q["max_new_tokens"] = max_new_tokens;
  return q.dump();
}

TaskResult Session::run(const std::string& task, const std::string& request_json) {
  TaskResult r;
  auto t0 = std::chrono::steady_clock::now();
  json res, q;
  try {
    q = json::parse(request_json);
    IA_CHECK(q.is_object(), "request: expected a JSON object");
    q["task"] = task;
    res = impl_->runner.run(q);
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
  r.inputs = int64_t(q.value("inputs", json::array()).size());
  if (res.contains("generation")) {
    try {
      r.generated_ids = generated_token_ids(res);
    } catch (const std::exception&) {
      r.generated_ids.clear();
    }
    const json& g = res["generation"].is_array() ? res["generation"] : json::array({res["generation"]});
    for (const auto& e : g)
      r.tokens += e.value("prompt_tokens", e.value("input_tokens", int64_t(0))) +
                  e.value("new_tokens", int64_t(r.generated_ids.size()));
  } else {
    // Text inputs: their tokens; image / audio files: none counted.
    std::vector<std::string> texts;
    for (const auto& in : q.value("inputs", json::array()))
      if (in.is_string() && !std::filesystem::exists(in.get<std::string>())) texts.push_back(in.get<std::string>());
    r.tokens = impl_->runner.count_tokens(texts);
  }
  return r;
}

}  // namespace ia::generated
