// A bundled tiny checkpoint paired with a word-level tokenizer written on the
// fly (token i is "w<i>"), so text-level tests can compare generated ids with
// the transformers reference of the same checkpoint. Shared by pipeline and
// server tests.
#pragma once
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scratch_dir.h"

namespace ia::test {

inline std::string word(int64_t id) { return "w" + std::to_string(id); }

// Copies a fixture checkpoint into a scratch directory (removed when the returned
// object goes) and adds a WordLevel tokenizer whose token i is "w<i>" (or a special
// token where `specials` says so).
inline ScratchDir model_with_tokenizer(const std::string& fixture, int64_t vocab,
                                       const std::map<int64_t, std::string>& specials) {
  std::filesystem::path src = std::filesystem::path(IA_FIXTURES_DIR) / "models" / fixture;
  ScratchDir scratch("text_" + std::filesystem::path(fixture).filename().string());
  const std::filesystem::path& dst = scratch.path();
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json"})
    if (std::filesystem::exists(src / f)) std::filesystem::copy_file(src / f, dst / f);
  nlohmann::json vocab_map = nlohmann::json::object(), added = nlohmann::json::array();
  for (int64_t i = 0; i < vocab; ++i) {
    auto it = specials.find(i);
    std::string tok = it == specials.end() ? word(i) : it->second;
    vocab_map[tok] = i;
    if (it != specials.end())
      added.push_back({{"id", i}, {"content", tok}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", true}});
  }
  nlohmann::json tok = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
              {"normalizer", nullptr}, {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}, {"post_processor", nullptr},
              {"decoder", nullptr},
              {"model", {{"type", "WordLevel"}, {"vocab", vocab_map}, {"unk_token", specials.count(1) ? specials.at(1) : word(1)}}}};
  std::ofstream(dst / "tokenizer.json") << tok.dump();
  return scratch;
}

inline std::string words(const std::vector<int64_t>& ids) {
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : " ") + word(id);
  return s;
}

}  // namespace ia::test
