// Subcommands of the ipfs-accelerate program; each lives in its own cmd_*.cpp
// and registers its options on the CLI11 app.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace ia::cli {

// Returns the action to run when the subcommand was chosen (exit code).
using Action = std::function<int()>;
Action add_verify(CLI::App& app);
Action add_inspect(CLI::App& app);
Action add_bench(CLI::App& app);
Action add_make_checkpoint(CLI::App& app);
Action add_compose(CLI::App& app);
Action add_run(CLI::App& app);
Action add_models(CLI::App& app);  // registry coverage report
Action add_detect(CLI::App& app);  // family/type/task detection
Action add_generate(CLI::App& app);  // specialised programs (composer/generate.h)
Action add_matrix(CLI::App& app);    // compatibility matrix earned by execution
Action add_coverage(CLI::App& app);  // coverage of all 264 model types, verified by execution
Action add_serve(CLI::App& app);   // HTTP server
Action add_bench_tokenizer(CLI::App& app);  // tokenizer throughput

// --weights auto|mmap|hugepages on `cmd`: where models loaded by it keep their weights
// (formats/weight_placement.h; sets the process default).
void add_weights_option(CLI::App* cmd);

// Default fixture root: the fixtures bundled with the source tree.
std::string bundled_fixtures_dir();

}  // namespace ia::cli
