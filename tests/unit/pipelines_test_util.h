// Test helpers of the pipelines area: bundled tiny checkpoints paired with a
// word-level tokenizer (token i is "w<i>"), so pipeline outputs can be compared
// with the transformers references of the same checkpoint.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string word(int64_t id) { return "w" + std::to_string(id); }

// Copies a fixture checkpoint and adds a WordLevel tokenizer whose token i is "w<i>"
// (or a special token where `specials` says so).
std::string model_with_tokenizer(const std::string& fixture, int64_t vocab, const std::map<int64_t, std::string>& specials) {
  fs::path src = fs::path(IA_FIXTURES_DIR) / "models" / fixture;
  fs::path dst = fs::temp_directory_path() / ("ia_text_" + std::to_string(::getpid()) + "_" + fs::path(fixture).filename().string());
  fs::remove_all(dst);
  fs::create_directories(dst);
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json"})
    if (fs::exists(src / f)) fs::copy_file(src / f, dst / f);
  json vocab_map = json::object(), added = json::array();
  for (int64_t i = 0; i < vocab; ++i) {
    auto it = specials.find(i);
    std::string tok = it == specials.end() ? word(i) : it->second;
    vocab_map[tok] = i;
    if (it != specials.end())
      added.push_back({{"id", i}, {"content", tok}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", true}});
  }
  json tok = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
              {"normalizer", nullptr}, {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}, {"post_processor", nullptr},
              {"decoder", nullptr},
              {"model", {{"type", "WordLevel"}, {"vocab", vocab_map}, {"unk_token", specials.count(1) ? specials.at(1) : word(1)}}}};
  std::ofstream(dst / "tokenizer.json") << tok.dump();
  return dst.string();
}

std::string words(const std::vector<int64_t>& ids) {
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : " ") + word(id);
  return s;
}

}  // namespace
