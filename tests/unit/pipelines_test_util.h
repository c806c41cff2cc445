// Names the pipelines tests use unqualified: the word-level tokenizer helpers
// of text_model_util.h (shared with the server tests) and the usual aliases.
#pragma once
#include "text_model_util.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ia::test::model_with_tokenizer;
using ia::test::ScratchDir;
using ia::test::word;
using ia::test::words;

}  // namespace
