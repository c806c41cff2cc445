// Helpers shared by the encoder-decoder tests: fixture directories, loading,
// scratch checkpoint copies with edited configs.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "scratch_dir.h"
#include "templates/encoder_decoder/encdec_model.h"

namespace encdec_test {

namespace fs = std::filesystem;

inline std::vector<std::string> fixture_dirs() {
  std::vector<std::string> dirs;
  fs::path root = fs::path(IA_FIXTURES_DIR) / "models";
  for (const auto& type : ia::encdec_model_types()) {
    fs::path d = root / type;
    if (!fs::exists(d)) continue;
    for (const auto& e : fs::directory_iterator(d))
      if (fs::exists(e.path() / "reference.json")) dirs.push_back(e.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

inline std::string fixture(const std::string& rel) { return (fs::path(IA_FIXTURES_DIR) / "models" / rel).string(); }

inline std::unique_ptr<ia::EncDecModel> load(const std::string& dir) {
  ia::ModelContext ctx = ia::ModelContext::open(dir);
  ctx.checkpoint = ia::Checkpoint::open_dir(dir);
  return std::make_unique<ia::EncDecModel>(ctx);
}

inline nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

inline void write_json(const fs::path& p, const nlohmann::json& j) {
  std::ofstream out(p);
  out << j.dump(2);
}

// Copies a fixture checkpoint into a fresh scratch directory (removed when the returned
// object goes) so a test can edit its configs.
inline ia::test::ScratchDir scratch_copy(const std::string& src, const std::string& tag) {
  ia::test::ScratchDir dst("encdec_" + tag);
  for (const char* f : {"config.json", "generation_config.json", "model.safetensors"})
    if (fs::exists(fs::path(src) / f)) fs::copy_file(fs::path(src) / f, dst.path() / f);
  return dst;
}

inline double max_diff(const float* a, const float* b, int64_t n) {
  double w = 0;
  for (int64_t i = 0; i < n; ++i) w = std::max(w, double(std::fabs(a[i] - b[i])));
  return w;
}

inline ia::Tensor ids(const std::vector<int64_t>& v, int64_t rows, int64_t cols) {
  return ia::Tensor::from_vector_i64(v, {rows, cols});
}

}  // namespace encdec_test
