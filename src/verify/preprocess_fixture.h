// Preprocessing fixtures for `verify`: a directory with preprocessor_config.json,
// reference.json and reference.safetensors but no config.json (the format of
// tests/fixtures/preprocess/README.md).
#pragma once
#include <string>
#include <vector>

#include "verify/verify.h"

namespace ia {

bool is_preprocess_fixture(const std::string& dir);
std::vector<CaseResult> verify_preprocess_fixture(const std::string& dir, const std::string& rel,
                                                  const VerifyOptions& opts);

}  // namespace ia
