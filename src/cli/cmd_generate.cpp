// `ipfs-accelerate generate MODEL_DIR|MODEL_TYPE --out DIR` and `generate --all --out DIR`:
// specialised C++ programs built against the installed library (composer/generate.h).
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "composer/generate.h"
#include "core/error.h"

namespace ia::cli {

Action add_generate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Write a specialised C++ program for a model (or --all supported model "
                                             "types) that builds against the installed library");
  struct Args {
    std::string target, out, hardware, task, models_root;
    bool all = false, json = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("target", a->target, "Model directory, or a model_type with a bundled fixture model");
  cmd->add_option("--out", a->out, "Output directory")->required();
  cmd->add_flag("--all", a->all, "One program per supported model type, with DIR/CMakeLists.txt, a JSON summary and a report");
  cmd->add_option("--hardware", a->hardware, "Comma-separated hardware templates to emit init_<hw> for (default: all)");
  cmd->add_option("--task", a->task, "Only this task's handler (default: every task that runs)");
  cmd->add_option("--models", a->models_root, "Bundled fixture models (default: the bundled tests/fixtures/models)");
  cmd->add_flag("--json", a->json, "Print the result as JSON");
  return [a]() {
    IA_CHECK(a->all != !a->target.empty(), "generate: give either a MODEL_DIR/MODEL_TYPE or --all");
    GenerateRequest req;
    req.target = a->target;
    req.out_dir = a->out;
    req.task = a->task;
    req.models_root = a->models_root.empty() ? (std::filesystem::path(bundled_fixtures_dir()) / "models").string() : a->models_root;
    std::stringstream ss(a->hardware);
    for (std::string item; std::getline(ss, item, ',');)
      if (!item.empty()) req.hardware.push_back(item);
    if (a->all) {
      nlohmann::json s = generate_all(req);
      if (a->json) {
        std::cout << s.dump(2) << std::endl;
      } else {
        for (const auto& p : s["programs"])
          std::cout << (p["generated"].get<bool>() ? "GENERATED " : "SKIPPED   ") << p["model_type"].get<std::string>() << " "
                    << (p["generated"].get<bool>() ? p["handlers"].dump() : p.value("reason", "")) << "\n";
        std::cout << "generated " << s["generated"] << " of " << s["supported_model_types"]
                  << " supported model types into " << s["out_dir"].get<std::string>() << "\n";
      }
      return s["errors"].get<int64_t>() == 0 ? 0 : 1;
    }
    GeneratedProgram p = generate_program(req);
    if (a->json) std::cout << to_json(p).dump(2) << std::endl;
    else {
      std::cout << "wrote " << p.source_file << " (" << p.model_type << ", handlers:";
      for (const auto& h : p.handlers) std::cout << " " << h;
      std::cout << ")\n";
      for (const auto& [t, why] : p.skipped) std::cout << "  no handler for " << t << ": " << why << "\n";
    }
    return 0;
  };
}

}  // namespace ia::cli
