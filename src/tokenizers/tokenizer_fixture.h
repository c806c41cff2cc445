// `verify` support for tokenizer fixtures: a directory holding tokenizer.json and
// reference_rs.jsonl (optionally truncation_padding_rs.jsonl), records made by
// the Rust `tokenizers` library. Every record is one case; every field it has
// is checked.
#pragma once
#include <string>
#include <vector>

#include "verify/verify.h"

namespace ia {

std::vector<CaseResult> verify_tokenizer_fixture(const std::string& dir, const std::string& rel,
                                                 const VerifyOptions& opts);

}  // namespace ia
