// `ipfs-accelerate matrix [--json|--markdown] [--out FILE]`: architecture x pipeline
// and architecture x hardware, every ✅ earned by execution in this run
// (composer/matrix.h). Exit 1 when an implemented family has no working pipeline.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "composer/matrix.h"
#include "core/error.h"

namespace ia::cli {

Action add_matrix(CLI::App& app) {
  auto* cmd = app.add_subcommand("matrix", "Compatibility matrices earned by executing every composition on bundled models");
  struct Args {
    bool json = false, markdown = false;
    std::string out, models;
  };
  auto a = std::make_shared<Args>();
  cmd->add_flag("--json", a->json, "Print JSON");
  cmd->add_flag("--markdown", a->markdown, "Print markdown");
  cmd->add_option("--out", a->out, "Write to this file instead of stdout");
  cmd->add_option("--models", a->models, "Bundled fixture models (default: tests/fixtures/models)");
  return [a]() {
    std::string root = a->models.empty() ? (std::filesystem::path(bundled_fixtures_dir()) / "models").string() : a->models;
    nlohmann::json m = build_matrix(gather_all_evidence(root));
    std::string text = a->json ? m.dump(2) + "\n" : a->markdown ? matrix_markdown(m) : matrix_text(m);
    if (a->out.empty()) {
      std::cout << text;
    } else {
      std::ofstream out(a->out, std::ios::binary);
      out << text;
      IA_CHECK(out.good(), a->out, ": cannot write");
    }
    for (const auto& e : m["errors"]) std::cerr << "error: " << e.get<std::string>() << "\n";
    return m["errors"].empty() ? 0 : 1;
  };
}

}  // namespace ia::cli
