// The compatibility matrices: architecture x pipeline template and architecture x
// hardware template. A cell is ✅ only when this run executed that composition on a
// bundled model and its output checked out (composer/evidence.h); every ❌ carries
// why (not implemented, hardware absent, incompatible, failing). An implemented
// family without a single working pipeline composition is an error.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "composer/evidence.h"

namespace ia {

// Evidence for every implemented model type (registry order).
std::vector<TypeEvidence> gather_all_evidence(const std::string& models_root, bool run_pipelines = true);

// Pure: evidence -> matrix JSON {"pipelines": [...], "hardware": [...], "rows": [...],
// "families": [...], "errors": [...]}. `hardware` statuses are probed here.
nlohmann::json build_matrix(const std::vector<TypeEvidence>& evidence);

std::string matrix_text(const nlohmann::json& m);
std::string matrix_markdown(const nlohmann::json& m);

}  // namespace ia
