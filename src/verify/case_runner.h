// What every `verify` fixture runner does around one case: time it and turn the
// exceptions its body throws into the case's status, so each runner writes only
// how to run and compare its own kind of case.
#pragma once
#include <chrono>
#include <exception>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "verify/verify.h"

namespace ia {

// Runs `body(r)` for case `name` of fixture `rel` and times it. The body records
// its own comparison failures in `r`; an ia::Unsupported it throws makes the case
// UNSUPPORTED, any other exception FAIL, with the message as the detail.
template <typename F>
CaseResult run_verify_case(const std::string& rel, const std::string& name, F&& body) {
  CaseResult r;
  r.fixture = rel;
  r.case_name = name;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    body(r);
  } catch (const Unsupported& e) {
    r.status = CaseStatus::Unsupported;
    r.detail = e.what();
  } catch (const std::exception& e) {
    r.status = CaseStatus::Fail;
    r.detail = e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// Marks `r` failed with `why` unless it already failed: the first difference wins.
void fail_case(CaseResult& r, const std::string& why);

// A fixture whose model (or processor) could not be loaded: every case listed in
// `cases` (reference.json's array; a single "load" case when it lists none) gets
// `e`'s message, UNSUPPORTED when `e` is an ia::Unsupported and FAIL otherwise.
std::vector<CaseResult> load_failure_results(const std::string& rel, const nlohmann::json& cases,
                                             const std::exception& e);

}  // namespace ia
