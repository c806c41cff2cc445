#include "composer/evidence.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "composer/bundled_model.h"
#include "composer/task_runner.h"
#include "core/error.h"
#include "registry/model_types.h"
#include "verify/verify.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

bool TypeEvidence::any_task_ok() const {
  return std::any_of(tasks.begin(), tasks.end(), [](const TaskEvidence& t) { return t.ok; });
}

namespace {

constexpr double kTol = 1e-4;

std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (auto x : v) {
    s += s.empty() ? "" : " ";
    s += std::to_string(x);
  }
  return s;
}

// The model's own forward pass on the probe ids (row 0, no padding). The same
// model's forward is checked against transformers by the fixture's verify cases.
TensorMap forward_on(Model& model, const std::vector<int64_t>& ids) {
  const int64_t T = int64_t(ids.size());
  TensorMap in;
  in["input_ids"] = Tensor::from_vector_i64(ids, {1, T});
  in["attention_mask"] = Tensor::from_vector_i64(std::vector<int64_t>(ids.size(), 1), {1, T});
  return model.forward(in);
}

std::vector<double> softmax_row(const float* x, int64_t n) {
  std::vector<double> p(static_cast<size_t>(n));
  double mx = *std::max_element(x, x + n), sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (p[size_t(i)] = std::exp(double(x[i]) - mx));
  for (auto& v : p) v /= sum;
  return p;
}

int64_t argmax(const float* x, int64_t n) { return int64_t(std::max_element(x, x + n) - x); }

}  // namespace

TaskEvidence check_task(TaskRunner& runner, const BundledModel& m, const std::string& task) {
  TaskEvidence ev;
  ev.task = task;
  const bool generation = task == "text-generation";
  json res = runner.run({task, {probe_text(m, task)}, generation ? m.max_new_tokens : -1});
  if (!res.value("success", false)) {
    ev.detail = res.value("error", std::string("failed"));
    return ev;
  }
  try {
    if (generation) {
      ev.checked_against = "transformers reference";
      IA_CHECK(!m.prompt_ids.empty(), "the fixture has no generate case to compare with");
      auto got = res.at("generation").at(0).at("token_ids").get<std::vector<int64_t>>();
      IA_CHECK(got == m.expected_new_ids, "generated ids [", join(got), "] differ from transformers' greedy [",
               join(m.expected_new_ids), "]");
      ev.detail = cat(got.size(), " generated ids equal transformers' greedy continuation");
    } else if (task == "feature-extraction") {
      ev.checked_against = "reference-verified forward pass";
      TensorMap out = forward_on(runner.model(), m.forward_ids);
      IA_CHECK(out.count("last_hidden_state"), "forward produced no last_hidden_state");
      const Tensor& h = out["last_hidden_state"];
      const int64_t T = h.dim(1), D = h.dim(2);
      auto emb = res.at("embeddings").at(0).get<std::vector<double>>();
      IA_CHECK(int64_t(emb.size()) == D, "embedding has ", emb.size(), " dimensions, hidden size is ", D);
      double err = 0;
      for (int64_t d = 0; d < D; ++d) {
        double mean = 0;
        for (int64_t t = 0; t < T; ++t) mean += h.f32()[t * D + d];
        err = std::max(err, std::abs(mean / double(T) - emb[size_t(d)]));
      }
      IA_CHECK(err <= kTol, "mean-pooled embedding differs by ", err);
      ev.detail = cat(D, "-dim mean-pooled embedding, max_abs_err=", err);
    } else if (task == "fill-mask" || task == "text-classification") {
      ev.checked_against = "reference-verified forward pass";
      TensorMap out = forward_on(runner.model(), m.forward_ids);
      IA_CHECK(out.count("logits"), "forward produced no logits");
      const Tensor& lg = out["logits"];
      const int64_t V = lg.dim(-1);
      if (task == "text-classification") {
        auto p = softmax_row(lg.f32(), V);
        int64_t best = argmax(lg.f32(), V);
        double score = res.at("classification").at("top_score").get<double>();
        IA_CHECK(std::abs(score - p[size_t(best)]) <= kTol, "top score ", score, " vs ", p[size_t(best)]);
        ev.detail = cat("top label ", res["classification"]["top_label"].get<std::string>(), " score ", score);
      } else {
        const json& preds = res.at("predictions");
        size_t checked = 0;
        for (const auto& pred : preds) {
          int64_t pos = pred.at("position").get<int64_t>();
          const float* row = lg.f32() + pos * V;
          auto p = softmax_row(row, V);
          int64_t best = argmax(row, V);
          const json& top = pred.at("candidates").at(0);
          IA_CHECK(top.at("token").get<int64_t>() == best, "position ", pos, ": top token ", top["token"], " vs argmax ", best);
          IA_CHECK(std::abs(top.at("score").get<double>() - p[size_t(best)]) <= kTol, "position ", pos, ": score differs");
          ++checked;
        }
        IA_CHECK(checked > 0, "no [MASK] position predicted");
        ev.detail = cat(checked, " masked position(s): top token and score match the logits");
      }
    } else {
      ev.detail = "ran, but this task's output has no check here";
      return ev;
    }
    ev.ok = true;
  } catch (const std::exception& e) {
    ev.detail = e.what();
  }
  return ev;
}

TypeEvidence gather_evidence(const std::string& models_root, const std::string& model_type, bool run_pipelines) {
  TypeEvidence ev;
  ev.model_type = model_type;
  if (const ModelTypeInfo* info = find_model_type(model_type)) ev.family = info->family;
  ev.implemented = find_template(model_type) != nullptr;
  ev.pipeline = pipeline_name_for(model_type);
  ev.pipeline_implemented = pipeline_implemented(ev.pipeline);
  ev.fixtures = bundled_fixture_dirs(models_root, model_type);
  if (!ev.implemented) return ev;
  VerifyOptions opts;
  std::string best;
  size_t best_tasks = 0;
  for (const auto& dir : ev.fixtures) {
    for (const auto& r : verify_model_fixture(dir, fs::relative(dir, models_root).string(), opts)) {
      if (r.status == CaseStatus::Pass) ++ev.cases_pass;
      else if (r.status == CaseStatus::Fail) ++ev.cases_fail;
      else ++ev.cases_unsupported;
      if (r.status != CaseStatus::Pass && ev.first_failure.empty())
        ev.first_failure = cat(r.fixture, " ", r.case_name, ": ", r.detail);
    }
    try {
      size_t n = load_model(dir)->tasks().size();
      if (best.empty() || n > best_tasks) best = dir, best_tasks = n;
    } catch (const std::exception&) {
    }
  }
  if (!run_pipelines || best.empty()) return ev;
  if (!ev.pipeline_implemented) {
    ev.pipeline_error = cat("the '", ev.pipeline, "' pipeline template is not dispatched by the composer's task runner in this build");
    return ev;
  }
  fs::path tmp = fs::temp_directory_path() / cat("ia_evidence_", ::getpid(), "_", model_type);
  try {
    BundledModel m = read_bundled_model(best);
    fs::remove_all(tmp);
    write_runnable_copy(m, tmp.string());
    TaskRunner runner(tmp.string());
    for (const auto& task : runner.model().tasks()) ev.tasks.push_back(check_task(runner, m, task));
  } catch (const std::exception& e) {
    ev.pipeline_error = e.what();
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return ev;
}

}  // namespace ia
