// `ipfs-accelerate detect NAME_OR_DIR`: family, model type and default task of a
// model directory (read from config.json) or a model name / hub id (a best guess
// with its confidence and the rule that matched).
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "registry/detect.h"

namespace ia::cli {

Action add_detect(CLI::App& app) {
  auto* cmd = app.add_subcommand("detect", "Detect family, model type and default task of a model directory or a "
                                           "model name / hub id");
  auto target = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("name_or_dir", *target, "Model directory, model name or hub id (e.g. openai/clip-vit-base-patch32)")
      ->required();
  cmd->add_flag("--json", *as_json, "Print JSON");
  return [target, as_json]() {
    Detection d = detect(*target);
    if (*as_json) {
      std::cout << detection_to_json(d).dump(2) << std::endl;
    } else {
      std::ostringstream conf;
      conf << std::fixed << std::setprecision(2) << d.confidence;
      std::cout << "input:        " << d.input << " (" << d.source << ")\n"
                << "model_type:   " << (d.model_type.empty() ? "unknown" : d.model_type)
                << (d.info ? std::string(" (") + d.info->display_name + ")"
                           : d.model_type.empty() ? "" : " (not a transformers 4.44.2 model type)")
                << "\n";
      if (!d.architecture.empty()) std::cout << "architecture: " << d.architecture << "\n";
      std::cout << "family:       " << (d.family_known ? family_name(d.family) : "unknown") << "\n"
                << "task:         " << (d.task.empty() ? "unknown" : d.task) << "\n"
                << "status:       " << (d.supported() ? "supported by this build" : "not yet supported by this build")
                << "\n"
                << "confidence:   " << conf.str() << "\n"
                << "rule:         " << d.rule << "\n";
      for (const auto& n : d.notes) std::cout << "note:         " << n << "\n";
    }
    // A name nothing matched is an answer ("unknown"), not an error; bad directories throw.
    return 0;
  };
}

}  // namespace ia::cli
