// Helpers shared by the speech tests: fixture paths, scratch copies with edited configs.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "scratch_dir.h"
#include "templates/model.h"

namespace speech_test {

namespace fs = std::filesystem;

inline std::string fixture(const std::string& rel) { return (fs::path(IA_FIXTURES_DIR) / "models" / rel).string(); }

inline nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

using ia::test::ScratchDir;

// Copies a fixture checkpoint into a scratch directory (removed when the returned
// object goes) and edits its config.json.
template <typename Edit>
ScratchDir scratch_copy(const std::string& src, const std::string& name, Edit edit) {
  ScratchDir scratch("speech_" + name);
  const fs::path& dst = scratch.path();
  for (const auto& e : fs::directory_iterator(src)) fs::copy(e.path(), dst / e.path().filename());
  nlohmann::json cfg = read_json(dst / "config.json");
  edit(cfg);
  std::ofstream(dst / "config.json") << cfg.dump(2);
  return scratch;
}

}  // namespace speech_test
