// `ipfs-accelerate generate`: writes a specialised, self-contained C++ program per
// model type. The composition (family, architecture, pipeline, template parameters,
// sizes) is decided here and emitted as constants; the program calls the installed
// library (composer/generated_runtime.h) for the work, so it compiles fast. Each
// program has an init_<hardware> per hardware template, one handler per task that
// runs on its model, and a self-test (no arguments) on its bundled model.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ia {

struct GenerateRequest {
  std::string target;                 // model directory, or a model_type with a bundled fixture
  std::string out_dir;
  std::vector<std::string> hardware;  // empty = every hardware template
  std::string task;                   // empty = every task that runs
  std::string models_root;            // bundled fixtures (tests/fixtures/models)
};

// One generated program (or why none was generated).
struct GeneratedProgram {
  std::string model_type, family, program, source_file, model_dir, fixture;
  std::vector<std::string> handlers;                        // tasks with a handler
  std::vector<std::pair<std::string, std::string>> skipped; // task -> why it has no handler
  std::string not_generated;                                // non-empty: why no program
  bool error = false;  // generation itself failed (a bug or a broken fixture), not a missing feature
};

// Generates one program under out_dir/<program>/ and writes out_dir/CMakeLists.txt for it.
GeneratedProgram generate_program(const GenerateRequest& req);

// Every supported model type (from the family templates): one program each, plus
// out_dir/CMakeLists.txt, generate_summary.json and GENERATED.md. Returns the summary.
nlohmann::json generate_all(const GenerateRequest& req);

nlohmann::json to_json(const GeneratedProgram& p);

}  // namespace ia
