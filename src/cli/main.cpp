// ipfs-accelerate: run Hugging Face checkpoints natively and prove it.
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"ipfs-accelerate: a native engine for Hugging Face models, composed from architecture, hardware "
               "and pipeline templates and verified against transformers"};
  app.require_subcommand(1);
  std::map<std::string, ia::cli::Action> actions;
  auto reg = [&](const char* name, ia::cli::Action (*add)(CLI::App&)) { actions[name] = add(app); };
  reg("verify", ia::cli::add_verify);
  reg("inspect", ia::cli::add_inspect);
  reg("bench", ia::cli::add_bench);
  reg("make-checkpoint", ia::cli::add_make_checkpoint);
  reg("compose", ia::cli::add_compose);
  reg("run", ia::cli::add_run);
  reg("models", ia::cli::add_models);
  reg("detect", ia::cli::add_detect);
  reg("generate", ia::cli::add_generate);
  reg("matrix", ia::cli::add_matrix);
  reg("coverage", ia::cli::add_coverage);
  reg("serve", ia::cli::add_serve);
  reg("bench-tokenizer", ia::cli::add_bench_tokenizer);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (CLI::App* sub : app.get_subcommands()) {
      auto it = actions.find(sub->get_name());
      if (it != actions.end()) return it->second();
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
  return 2;
}
