#include "composer/matrix.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "backends/hardware.h"
#include "core/error.h"
#include "pipelines/pipeline_templates.h"
#include "registry/model_types.h"

namespace ia {

using json = nlohmann::json;

std::vector<TypeEvidence> gather_all_evidence(const std::string& models_root, bool run_pipelines) {
  std::vector<TypeEvidence> r;
  for (const auto& type : supported_model_types()) r.push_back(gather_evidence(models_root, type, run_pipelines));
  return r;
}

namespace {

json cell(bool ok, const std::string& reason) { return {{"ok", ok}, {"reason", reason}}; }

// Why the type's own composition did not run / check out ("" when at least one task passed).
std::string execution_problem(const TypeEvidence& e) {
  if (e.fixtures.empty()) return "not executed: no bundled model for this type";
  if (e.cases_fail > 0 || e.cases_unsupported > 0)
    return cat("architecture fails its references (", e.cases_fail, " failed, ", e.cases_unsupported, " unsupported): ", e.first_failure);
  if (!e.pipeline_implemented) return cat("not implemented: the ", e.pipeline, " pipeline template has no implementation in the task dispatcher (pipelines/task_dispatch.cpp)");
  if (!e.pipeline_error.empty()) return "pipeline could not run: " + e.pipeline_error;
  if (e.any_task_ok()) return "";
  std::string why = "no task passes";
  for (const auto& t : e.tasks) why += cat("; ", t.task, ": ", t.detail);
  if (e.tasks.empty()) why += ": the model's heads allow no task";
  return why;
}

json pipeline_cell(const TypeEvidence& e, const PipelineTemplate& p) {
  if (p.name != e.pipeline)
    return cell(false, cat("incompatible: ", family_name(e.family), " models are served by the ", e.pipeline, " pipeline"));
  std::string problem = execution_problem(e);
  if (!problem.empty()) return cell(false, problem);
  json c = cell(true, "executed on the bundled model; output checked");
  c["tasks"] = json::array();
  c["failed_tasks"] = json::array();
  for (const auto& t : e.tasks)
    (t.ok ? c["tasks"] : c["failed_tasks"]).push_back({{"task", t.task}, {"detail", t.detail}, {"checked_against", t.checked_against}});
  return c;
}

json hardware_cell(const TypeEvidence& e, const HardwareStatus& h) {
  if (!h.present) return cell(false, cat("hardware absent: ", h.detail));
  if (!h.implemented) return cell(false, cat("present, but this build has no ", h.name, " kernels: ", h.detail));
  std::string problem = execution_problem(e);
  if (!problem.empty()) return cell(false, problem);
  return cell(true, cat("verified (", e.cases_pass, " reference cases) and pipeline executed on ", h.name));
}

std::string mark(const json& c) { return c["ok"].get<bool>() ? "✅" : "❌"; }

std::string md_escape(std::string s) {
  std::string r;
  for (char ch : s) {
    if (ch == '|') r += "\\|";
    else if (ch == '\n') r += ' ';
    else r += ch;
  }
  return r;
}

}  // namespace

json build_matrix(const std::vector<TypeEvidence>& evidence) {
  json m;
  m["pipelines"] = json::array();
  for (const auto& p : pipeline_templates()) m["pipelines"].push_back(p.name);
  std::vector<HardwareStatus> hw;
  m["hardware"] = json::array();
  for (const auto& h : hardware_templates()) {
    hw.push_back(h->detect());
    m["hardware"].push_back({{"name", hw.back().name}, {"present", hw.back().present},
                             {"implemented", hw.back().implemented}, {"detail", hw.back().detail}});
  }
  m["rows"] = json::array();
  for (const auto& e : evidence) {
    json row = {{"model_type", e.model_type}, {"family", family_name(e.family)}, {"implemented", e.implemented},
                {"pipeline", e.pipeline}, {"verify", {{"pass", e.cases_pass}, {"fail", e.cases_fail}, {"unsupported", e.cases_unsupported}}}};
    for (const auto& p : pipeline_templates()) row["by_pipeline"][p.name] = pipeline_cell(e, p);
    for (const auto& h : hw) row["by_hardware"][h.name] = hardware_cell(e, h);
    m["rows"].push_back(row);
  }
  // Families: implemented ones must have a working pipeline composition.
  m["families"] = json::array();
  m["errors"] = json::array();
  for (Family f : all_families()) {
    std::vector<const TypeEvidence*> mine;
    for (const auto& e : evidence)
      if (e.family == f && e.implemented) mine.push_back(&e);
    const PipelineTemplate* p = pipeline_for_family(f);
    json fam = {{"family", family_name(f)}, {"pipeline", p ? p->name : ""}, {"implemented_types", mine.size()}};
    if (mine.empty()) {
      fam["status"] = "not implemented";
      fam["reason"] = cat("no architecture template for the ", family_name(f), " family in this build");
    } else {
      size_t working = 0;
      std::string why;
      for (const auto* e : mine) {
        std::string problem = execution_problem(*e);
        if (problem.empty()) ++working;
        // Prefer the reason of a type that has a bundled model (what actually stops the family).
        else if (why.empty() || (why.find(": not executed") != std::string::npos && !e->fixtures.empty()))
          why = cat(e->model_type, ": ", problem);
      }
      fam["working_types"] = working;
      fam["status"] = working > 0 ? "working" : "no working pipeline";
      if (working == 0) {
        fam["reason"] = why;
        m["errors"].push_back(cat("family ", family_name(f), " has no working pipeline composition (", why, ")"));
      }
    }
    m["families"].push_back(fam);
  }
  return m;
}

std::string matrix_text(const json& m) {
  std::ostringstream os;
  os << "architecture x pipeline\n" << std::left << std::setw(24) << "model_type";
  for (const auto& p : m["pipelines"]) os << std::setw(13) << p.get<std::string>();
  os << "\n";
  for (const auto& r : m["rows"]) {
    os << std::setw(24) << r["model_type"].get<std::string>();
    for (const auto& p : m["pipelines"])
      os << std::setw(13) << (r["by_pipeline"][p.get<std::string>()]["ok"].get<bool>() ? "yes" : "-");
    os << "\n";
  }
  os << "\narchitecture x hardware\n" << std::setw(24) << "model_type";
  for (const auto& h : m["hardware"]) os << std::setw(10) << h["name"].get<std::string>();
  os << "\n";
  for (const auto& r : m["rows"]) {
    os << std::setw(24) << r["model_type"].get<std::string>();
    for (const auto& h : m["hardware"])
      os << std::setw(10) << (r["by_hardware"][h["name"].get<std::string>()]["ok"].get<bool>() ? "yes" : "-");
    os << "\n";
  }
  os << "\nfamilies\n";
  for (const auto& f : m["families"])
    os << "  " << std::setw(20) << f["family"].get<std::string>() << f["status"].get<std::string>()
       << (f.contains("reason") ? " - " + f["reason"].get<std::string>() : "") << "\n";
  for (const auto& e : m["errors"]) os << "ERROR " << e.get<std::string>() << "\n";
  return os.str();
}

std::string matrix_markdown(const json& m) {
  std::ostringstream os;
  os << "# Compatibility matrix\n\nGenerated by `ipfs-accelerate matrix --markdown`. Every ✅ was earned in the run that "
        "wrote this file: the model type's bundled fixtures passed `verify` against transformers 4.44.2 and at least one "
        "task ran through the pipeline template (the library's task dispatcher, as `run` does) on the bundled model with "
        "its output checked: generated ids against transformers' greedy continuation (text, text2text, moe, state-space); "
        "embeddings, fill-mask, text and image classification and image embeddings against the reference-verified "
        "forward pass (images: a built-in PNG through the model's image processor); zero-shot scores, masks, captions "
        "and transcriptions (built-in PNG / WAV) by structural checks that fail on a malformed result. Each cell lists "
        "the tasks that passed. Every ❌ says why.\n\n";
  os << "## Families\n\n| family | pipeline | status | implemented types | note |\n|---|---|---|---:|---|\n";
  for (const auto& f : m["families"])
    os << "| " << f["family"].get<std::string>() << " | " << f["pipeline"].get<std::string>() << " | "
       << f["status"].get<std::string>() << " | " << f["implemented_types"] << " | " << md_escape(f.value("reason", "")) << " |\n";
  os << "\n## Architecture × pipeline\n\n| model type | family |";
  for (const auto& p : m["pipelines"]) os << " " << p.get<std::string>() << " |";
  os << "\n|---|---|";
  for (size_t i = 0; i < m["pipelines"].size(); ++i) os << "---|";
  os << "\n";
  for (const auto& r : m["rows"]) {
    os << "| `" << r["model_type"].get<std::string>() << "` | " << r["family"].get<std::string>() << " |";
    for (const auto& p : m["pipelines"]) {
      const json& c = r["by_pipeline"][p.get<std::string>()];
      if (c["ok"].get<bool>()) {
        std::string tasks;
        for (const auto& t : c["tasks"]) {
          tasks += tasks.empty() ? "" : ", ";
          tasks += t["task"].get<std::string>();
        }
        os << " ✅ " << tasks << " |";
      } else if (c["reason"].get<std::string>().rfind("incompatible", 0) == 0) {
        os << " ❌ incompatible |";
      } else {
        os << " ❌ " << md_escape(c["reason"].get<std::string>()) << " |";
      }
    }
    os << "\n";
  }
  os << "\n## Architecture × hardware\n\n| model type |";
  for (const auto& h : m["hardware"]) os << " " << h["name"].get<std::string>() << " |";
  os << "\n|---|";
  for (size_t i = 0; i < m["hardware"].size(); ++i) os << "---|";
  os << "\n";
  for (const auto& r : m["rows"]) {
    os << "| `" << r["model_type"].get<std::string>() << "` |";
    for (const auto& h : m["hardware"]) {
      const json& c = r["by_hardware"][h["name"].get<std::string>()];
      std::string reason = c["reason"].get<std::string>();
      os << " " << mark(c);
      if (!c["ok"].get<bool>()) os << " " << (reason.rfind("hardware absent", 0) == 0 ? std::string("absent") : md_escape(reason));
      os << " |";
    }
    os << "\n";
  }
  os << "\n### Hardware on the machine that wrote this\n\n| hardware | present | kernels in this build | detail |\n|---|---|---|---|\n";
  for (const auto& h : m["hardware"])
    os << "| " << h["name"].get<std::string>() << " | " << (h["present"].get<bool>() ? "yes" : "no") << " | "
       << (h["implemented"].get<bool>() ? "yes" : "no") << " | " << md_escape(h["detail"].get<std::string>()) << " |\n";
  if (!m["errors"].empty()) {
    os << "\n## Errors\n\n";
    for (const auto& e : m["errors"]) os << "- " << md_escape(e.get<std::string>()) << "\n";
  }
  return os.str();
}

}  // namespace ia
