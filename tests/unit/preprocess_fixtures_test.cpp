// The bundled transformers 4.44.2 preprocessing references: every case passes
// verify's tolerances, and PNG-input image cases reach what only an exact port
// of Pillow's resampler reaches (uint8 stages identical, pixel_values within
// atol_exact_port).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/safetensors.h"
#include "preprocess/image.h"
#include "preprocess/image_processor.h"
#include "verify/preprocess_fixture.h"

namespace fs = std::filesystem;
using namespace ia;

namespace {
const fs::path kRoot = fs::path(IA_FIXTURES_DIR) / "preprocess";

std::vector<fs::path> fixture_dirs() {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::recursive_directory_iterator(kRoot))
    if (e.is_directory() && is_preprocess_fixture(e.path().string())) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}
}  // namespace

TEST(PreprocessFixtures, EveryCasePasses) {
  const auto dirs = fixture_dirs();
  ASSERT_EQ(dirs.size(), 10u);
  int cases = 0;
  for (const auto& d : dirs) {
    for (const auto& r : verify_preprocess_fixture(d.string(), d.filename().string(), {})) {
      EXPECT_EQ(r.status, CaseStatus::Pass) << format_case_line(r);
      ++cases;
    }
  }
  EXPECT_GE(cases, 80);
}

TEST(PreprocessFixtures, PngCasesAreExactPortsOfPillow) {
  int checked = 0;
  for (const auto& d : fixture_dirs()) {
    const auto ref = nlohmann::json::parse(std::ifstream(d / "reference.json"));
    if (ref.value("kind", "") != "image") continue;
    const auto proc = ImageProcessor::from_dir(d.string());
    const auto st = SafetensorsFile::open((d / "reference.safetensors").string());
    for (const auto& c : ref["cases"]) {
      if (!c.contains("inputs") || !c["inputs"].contains("file") || c.contains("raises")) continue;
      const std::string file = c["inputs"]["file"];
      const bool jpeg = file.size() > 4 && file.substr(file.size() - 4) == ".jpg";
      SCOPED_TRACE(d.string() + " " + c["name"].get<std::string>());
      const auto stages = proc.run(decode_image_file((d / file).string()));
      const auto& out = c["outputs"];
      const Tensor resized = st->tensor(out["resized"]["tensor"].get<std::string>());
      ASSERT_EQ(resized.numel(), int64_t(stages.resized.rgb.size()));
      if (!jpeg) {
        EXPECT_EQ(std::memcmp(resized.raw(), stages.resized.rgb.data(), stages.resized.rgb.size()), 0);
      }
      const Tensor pv = st->tensor(out["pixel_values"]["tensor"].get<std::string>()).to_f32();
      ASSERT_EQ(pv.shape(), stages.pixel_values.shape());
      double worst = 0;
      for (int64_t i = 0; i < pv.numel(); ++i)
        worst = std::max(worst, double(std::fabs(pv.f32()[i] - stages.pixel_values.f32()[i])));
      // JPEG: our libjpeg-turbo decode equals PIL's, so the exact bound holds there too.
      EXPECT_LE(worst, out["pixel_values"].value("atol_exact_port", 1e-5));
      ++checked;
    }
  }
  EXPECT_GE(checked, 40);
}
