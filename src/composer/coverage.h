// The model coverage report: every transformers 4.44.2 model_type with its family,
// a status earned in this run, and its tasks; totals per family.
//   verified    an architecture template is built in and every bundled reference case passes
//   unverified  an architecture template is built in but no bundled reference proves it
//   failing     an architecture template is built in and a bundled reference case fails
//   unsupported no architecture template in this build
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace ia {

// Runs the evidence for every implemented type (composer/evidence.h) and renders it.
nlohmann::json build_coverage(const std::string& models_root);
std::string coverage_text(const nlohmann::json& c);
std::string coverage_markdown(const nlohmann::json& c);

}  // namespace ia
