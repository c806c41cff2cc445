// The fixture formats `verify` understands. Each entry recognises a directory
// by the files it holds; add a line here when a new fixture format arrives.
#include <filesystem>

#include "tokenizers/tokenizer_fixture.h"
#include "verify/diffusers_component_cases.h"
#include "verify/diffusion_pipeline_fixture.h"
#include "verify/diffusion_scheduler_fixture.h"
#include "verify/preprocess_fixture.h"
#include "verify/verify.h"

namespace ia {

namespace fs = std::filesystem;

const std::vector<FixtureKind>& fixture_kinds() {
  static const std::vector<FixtureKind> kinds = {
      // Before "model": diffusers components also hold config.json + reference.json.
      {"diffusers-component", is_diffusers_component_fixture, verify_diffusers_component_fixture},
      {"model",
       [](const std::string& d) {
         return fs::exists(fs::path(d) / "reference.json") && fs::exists(fs::path(d) / "config.json");
       },
       verify_model_fixture},
      {"tokenizer",
       [](const std::string& d) {
         return fs::exists(fs::path(d) / "tokenizer.json") && fs::exists(fs::path(d) / "reference_rs.jsonl");
       },
       verify_tokenizer_fixture},
      {"preprocess", is_preprocess_fixture, verify_preprocess_fixture},
      {"diffusion_scheduler", is_diffusion_scheduler_fixture, verify_diffusion_scheduler_fixture},
      {"diffusion_pipeline", is_diffusion_pipeline_fixture, verify_diffusion_pipeline_fixture},
  };
  return kinds;
}

}  // namespace ia
