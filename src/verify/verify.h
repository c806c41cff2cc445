// `verify`: walks a directory of reference fixtures, runs every case with the
// engine and compares every output within its tolerance. One line per case:
//   PASS|FAIL|UNSUPPORTED <fixture dir relative to ROOT> <case> max_abs_err=<x>
// Fixture kinds (model checkpoints, tokenizers, preprocessors...) are recognised
// by the files a directory holds; see verify/fixture_kinds.cpp.
#pragma once
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace ia {

enum class CaseStatus { Pass, Fail, Unsupported };

struct CaseResult {
  CaseStatus status = CaseStatus::Pass;
  std::string fixture;    // directory relative to the verify root
  std::string case_name;
  double max_abs_err = 0.0;
  std::string detail;     // first difference, or why unsupported
  double seconds = 0.0;
};

struct VerifyOptions {
  bool strict = false;      // UNSUPPORTED counts as failure
  std::string filter;       // only fixtures whose relative path contains this
  bool verbose = false;
};

struct VerifySummary {
  int pass = 0, fail = 0, unsupported = 0;
  std::vector<CaseResult> results;
  bool ok(bool strict) const { return fail == 0 && (!strict || unsupported == 0); }
};

// One kind of fixture directory: how to recognise it and how to run its cases.
struct FixtureKind {
  std::string name;
  std::function<bool(const std::string& dir)> matches;
  std::function<std::vector<CaseResult>(const std::string& dir, const std::string& rel, const VerifyOptions&)> run;
};
const std::vector<FixtureKind>& fixture_kinds();

// Model fixtures: config.json + reference.json + reference.safetensors.
std::vector<CaseResult> verify_model_fixture(const std::string& dir, const std::string& rel, const VerifyOptions& opts);

// Runs every fixture under root, printing one line per case (and a summary) to `out`.
VerifySummary verify_root(const std::string& root, const VerifyOptions& opts, std::ostream& out);

std::string format_case_line(const CaseResult& r);
const char* status_name(CaseStatus s);

}  // namespace ia
