#include "composer/compose.h"

#include <algorithm>
#include <sstream>

#include "backends/hardware.h"
#include "core/error.h"
#include "pipelines/pipeline_templates.h"
#include "templates/model.h"

namespace ia {

using json = nlohmann::json;

namespace {

int64_t checkpoint_bytes(const Checkpoint& ck) {
  int64_t b = 0;
  for (const auto& n : ck.names()) {
    const auto& ti = ck.info(n);
    b += int64_t(ti.end - ti.begin);
  }
  return b;
}

}  // namespace

json compose_plan(const ComposeRequest& req) {
  ModelContext ctx = ModelContext::open(req.model_dir);
  json plan;
  plan["model_dir"] = req.model_dir;
  plan["model_type"] = ctx.model_type;
  plan["architecture"] = ctx.architecture;
  std::vector<std::string> problems;

  // 1. Architecture template.
  const FamilyTemplate* ft = find_template(ctx.model_type);
  json arch;
  std::unique_ptr<Model> model;
  int64_t weight_bytes = 0;
  if (!ft) {
    arch = {{"implemented", false}, {"reason", cat("model_type '", ctx.model_type, "' has no architecture template in this build")}};
    problems.push_back(arch["reason"]);
  } else {
    arch["family"] = family_name(ft->family);
    arch["implemented"] = true;
    try {
      model = load_model(req.model_dir);
      arch["parameters"] = model->describe();
      weight_bytes = checkpoint_bytes(*Checkpoint::open_dir(req.model_dir));
    } catch (const std::exception& e) {
      arch["implemented"] = false;
      arch["reason"] = e.what();
      problems.push_back(e.what());
    }
  }
  plan["architecture_template"] = arch;

  // 2. Hardware templates, in preference order; the first usable one runs.
  std::vector<std::string> wanted = req.hardware.empty() ? hardware_names() : req.hardware;
  json considered = json::array();
  std::string selected;
  for (const auto& name : wanted) {
    const HardwareTemplate* h = find_hardware(name);
    json c = {{"name", name}};
    if (!h) {
      c["chosen"] = false;
      c["reason"] = cat("unknown hardware '", name, "' (known: ", [] {
        std::string s;
        for (const auto& n : hardware_names()) s += (s.empty() ? "" : ", ") + n;
        return s;
      }(), ")");
      considered.push_back(c);
      continue;
    }
    HardwareStatus st = h->detect();
    c["present"] = st.present;
    c["implemented"] = st.implemented;
    c["detail"] = st.detail;
    c["memory_available"] = st.memory_available;
    c["memory_needed"] = weight_bytes;
    c["weight_dtypes"] = st.weight_dtypes;
    if (!selected.empty()) {
      c["chosen"] = false;
      c["reason"] = cat("not needed: ", selected, " was chosen first");
    } else if (!st.present) {
      c["chosen"] = false;
      c["reason"] = "not present on this machine";
    } else if (!st.implemented) {
      c["chosen"] = false;
      c["reason"] = "present, but this build has no kernels for it";
    } else if (st.memory_available > 0 && weight_bytes > st.memory_available) {
      c["chosen"] = false;
      c["reason"] = cat("weights need ", weight_bytes, " bytes but only ", st.memory_available, " are available");
    } else {
      c["chosen"] = true;
      c["reason"] = "first requested hardware that is present, implemented and has room";
      selected = name;
    }
    considered.push_back(c);
  }
  json hw = {{"requested", wanted}, {"considered", considered}};
  if (selected.empty()) {
    hw["selected"] = nullptr;
    problems.push_back("none of the requested hardware can run this model");
  } else {
    hw["selected"] = selected;
    if (!req.hardware.empty() && selected != req.hardware.front())
      hw["note"] = cat("requested ", req.hardware.front(), " cannot run; ", selected, " runs instead");
  }
  plan["hardware_template"] = hw;

  // 3. Pipeline template.
  json pipe;
  if (ft) {
    const PipelineTemplate* p = pipeline_for_family(ft->family);
    pipe["name"] = p ? p->name : "";
    std::vector<std::string> model_tasks = model ? model->tasks() : std::vector<std::string>{};
    pipe["model_tasks"] = model_tasks;
    json tasks = json::array();
    if (p)
      for (const auto& t : p->tasks) tasks.push_back({{"task", t.task}, {"result_key", t.result_key}});
    pipe["pipeline_tasks"] = tasks;
    std::string task = req.task.empty() ? (model_tasks.empty() ? "" : model_tasks.front()) : req.task;
    pipe["task"] = task;
    bool served = std::find(model_tasks.begin(), model_tasks.end(), task) != model_tasks.end();
    pipe["task_supported"] = served;
    if (!served) problems.push_back(task.empty() ? "the model's heads allow no task" : cat("task '", task, "' is not served by this model's heads"));
  }
  plan["pipeline_template"] = pipe;
  plan["runnable"] = problems.empty();
  plan["problems"] = problems;
  return plan;
}

std::string format_plan(const json& plan) {
  std::ostringstream os;
  os << "model:        " << plan["model_dir"].get<std::string>() << " (" << plan["model_type"].get<std::string>() << ", "
     << plan.value("architecture", "") << ")\n";
  const json& a = plan["architecture_template"];
  os << "architecture: " << (a.value("implemented", false) ? a.value("family", "") : "NOT IMPLEMENTED - " + a.value("reason", "")) << "\n";
  if (a.contains("parameters"))
    for (auto it = a["parameters"].begin(); it != a["parameters"].end(); ++it)
      os << "  " << it.key() << " = " << it.value().dump() << "\n";
  const json& h = plan["hardware_template"];
  os << "hardware:     " << (h["selected"].is_null() ? "NONE" : h["selected"].get<std::string>()) << "\n";
  for (const auto& c : h["considered"])
    os << "  " << (c.value("chosen", false) ? "[x] " : "[ ] ") << c["name"].get<std::string>() << ": " << c.value("reason", "")
       << (c.contains("detail") ? " (" + c["detail"].get<std::string>() + ")" : "") << "\n";
  if (h.contains("note")) os << "  note: " << h["note"].get<std::string>() << "\n";
  const json& p = plan["pipeline_template"];
  if (!p.is_null()) {
    os << "pipeline:     " << p.value("name", "") << " (task " << p.value("task", "") << ")\n";
    os << "  model tasks: " << p["model_tasks"].dump() << "\n";
  }
  os << "runnable:     " << (plan["runnable"].get<bool>() ? "yes" : "no") << "\n";
  for (const auto& pr : plan["problems"]) os << "  problem: " << pr.get<std::string>() << "\n";
  return os.str();
}

}  // namespace ia
