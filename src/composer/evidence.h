// Evidence for one model type, earned by execution in this run: its bundled
// fixtures verified against the transformers references (architecture template),
// and each task of its heads run through its pipeline template on a bundled model
// with the output checked (hardware template: CPU). `matrix` and `coverage` are
// rendered from this; nothing in them is declared by hand.
#pragma once
#include <string>
#include <vector>

#include "templates/family.h"

namespace ia {

struct TaskEvidence {
  std::string task;
  bool ok = false;
  std::string detail;         // what was compared, or why it failed
  std::string checked_against;  // "transformers reference" / "reference-verified forward pass"
};

struct TypeEvidence {
  std::string model_type;
  Family family = Family::Other;
  bool implemented = false;      // an architecture template is built in
  std::vector<std::string> fixtures;  // bundled fixture dirs
  int cases_pass = 0, cases_fail = 0, cases_unsupported = 0;
  std::string first_failure;     // first failing verify case
  std::string pipeline;          // pipeline template serving the family
  bool pipeline_implemented = false;
  std::vector<TaskEvidence> tasks;  // run on the fixture whose heads allow the most tasks
  std::string pipeline_error;    // the pipeline could not be set up on the bundled model
  bool verified() const { return implemented && cases_pass > 0 && cases_fail == 0 && cases_unsupported == 0; }
  bool any_task_ok() const;
};

// `run_pipelines` = false only verifies the fixtures (coverage without pipelines).
TypeEvidence gather_evidence(const std::string& models_root, const std::string& model_type, bool run_pipelines = true);

// Runs `task` on a runnable bundled model directory and checks the result (see evidence.cpp).
struct BundledModel;
class TaskRunner;
TaskEvidence check_task(TaskRunner& runner, const BundledModel& m, const std::string& task);

}  // namespace ia
