// The composer: model directory -> architecture template + hardware template +
// pipeline template, with the reasons for every choice. The plan is data
// (JSON) so the CLI, the generator and the matrix all read the same thing.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ia {

struct ComposeRequest {
  std::string model_dir;
  std::vector<std::string> hardware;  // preference order; empty = every template, CPU first
  std::string task;                   // empty = the model's default task
};

// Builds the plan. Never throws for an unsupported model or absent hardware: the
// plan says what is missing ("runnable": false with reasons). Throws only when
// the directory itself is unreadable (no config.json, malformed JSON).
nlohmann::json compose_plan(const ComposeRequest& req);

// Text rendering of a plan for the terminal.
std::string format_plan(const nlohmann::json& plan);

}  // namespace ia
