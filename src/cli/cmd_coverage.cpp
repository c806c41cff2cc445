// `ipfs-accelerate coverage [--json|--markdown] [--out FILE]`: all 264 transformers
// 4.44.2 model types with family, status earned by running the bundled references,
// and tasks (composer/coverage.h). docs/MODEL_COVERAGE.md is written by this command.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "composer/coverage.h"
#include "core/error.h"

namespace ia::cli {

Action add_coverage(CLI::App& app) {
  auto* cmd = app.add_subcommand("coverage", "Every transformers 4.44.2 model type: family, status verified by "
                                             "execution, tasks; totals per family");
  struct Args {
    bool json = false, markdown = false;
    std::string out, models;
  };
  auto a = std::make_shared<Args>();
  cmd->add_flag("--json", a->json, "Print JSON");
  cmd->add_flag("--markdown", a->markdown, "Print the markdown report");
  cmd->add_option("--out", a->out, "Write to this file instead of stdout");
  cmd->add_option("--models", a->models, "Bundled fixture models (default: tests/fixtures/models)");
  return [a]() {
    std::string root = a->models.empty() ? (std::filesystem::path(bundled_fixtures_dir()) / "models").string() : a->models;
    nlohmann::json c = build_coverage(root);
    std::string text = a->json ? c.dump(2) + "\n" : a->markdown ? coverage_markdown(c) : coverage_text(c);
    if (a->out.empty()) {
      std::cout << text;
    } else {
      std::ofstream out(a->out, std::ios::binary);
      out << text;
      IA_CHECK(out.good(), a->out, ": cannot write");
    }
    return c["totals"]["failing"].get<size_t>() == 0 ? 0 : 1;
  };
}

}  // namespace ia::cli
