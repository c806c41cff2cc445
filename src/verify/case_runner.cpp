#include "verify/case_runner.h"

#include <nlohmann/json.hpp>

namespace ia {

void fail_case(CaseResult& r, const std::string& why) {
  if (r.status == CaseStatus::Fail) return;
  r.status = CaseStatus::Fail;
  r.detail = why;
}

std::vector<CaseResult> load_failure_results(const std::string& rel, const nlohmann::json& cases,
                                             const std::exception& e) {
  const CaseStatus status = dynamic_cast<const Unsupported*>(&e) ? CaseStatus::Unsupported : CaseStatus::Fail;
  std::vector<CaseResult> out;
  for (const auto& k : cases) out.push_back({status, rel, k.value("name", "?"), 0.0, e.what()});
  if (out.empty()) out.push_back({status, rel, "load", 0.0, e.what()});
  return out;
}

}  // namespace ia
