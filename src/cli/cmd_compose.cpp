#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "composer/compose.h"

namespace ia::cli {

Action add_compose(CLI::App& app) {
  auto* cmd = app.add_subcommand("compose", "Show how a model is composed: architecture, hardware and pipeline templates");
  auto req = std::make_shared<ComposeRequest>();
  auto hw = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("model_dir", req->model_dir, "Hugging Face model directory")->required();
  cmd->add_option("--hardware", *hw, "Comma-separated hardware preference (cpu,cuda,rocm,vulkan,openvino,metal,qnn,webgpu,webnn)");
  cmd->add_option("--task", req->task, "Task to serve (default: the model's first task)");
  cmd->add_flag("--json", *as_json, "Print the plan as JSON");
  return [req, hw, as_json]() {
    std::stringstream ss(*hw);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) req->hardware.push_back(item);
    auto plan = compose_plan(*req);
    if (*as_json) std::cout << plan.dump(2) << std::endl;
    else std::cout << format_plan(plan);
    return plan["runnable"].get<bool>() ? 0 : 3;
  };
}

}  // namespace ia::cli
