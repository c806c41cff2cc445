// Every encoder-only reference fixture must pass: the bundled ones
// (tests/fixtures/models/<type>) and the option/head fixtures generated with
// transformers' own modeling code (tests/fixtures/encoder_variants).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "verify/verify.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

const char* kTypes[] = {"bert", "roberta", "xlm-roberta", "distilbert", "albert", "electra", "deberta-v2", "dpr"};

// Runs every fixture directory (one holding reference.json) below root/<type>; returns the case count.
int run_all(const fs::path& root) {
  int cases = 0;
  for (const char* type : kTypes) {
    const fs::path dir = root / type;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!fs::exists(e.path() / "reference.json")) continue;
      const std::string rel = fs::relative(e.path(), root).generic_string();
      for (const CaseResult& r : verify_model_fixture(e.path().string(), rel, VerifyOptions{})) {
        ++cases;
        EXPECT_EQ(r.status, CaseStatus::Pass) << format_case_line(r);
      }
    }
  }
  return cases;
}

}  // namespace

TEST(EncoderFixtures, BundledModelFixturesPass) {
  const int cases = run_all(fs::path(IA_FIXTURES_DIR) / "models");
  EXPECT_GE(cases, 20) << "expected every bundled encoder-only fixture to be found";
}

TEST(EncoderFixtures, OptionAndHeadFixturesPass) {
  const int cases = run_all(fs::path(IA_FIXTURES_DIR) / "encoder_variants");
  EXPECT_GE(cases, 45) << "expected the generated encoder option fixtures to be found";
}
