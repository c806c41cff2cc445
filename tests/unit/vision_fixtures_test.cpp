// Every vit / clip / llava reference fixture (bundled and option variants) passes
// verify, and LLaVA's cached generation agrees with uncached forward passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "templates/model.h"
#include "verify/verify.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> fixture_dirs(const std::string& set) {
  std::vector<std::string> dirs;
  for (const char* type : {"vit", "clip", "clip_vision_model", "llava"}) {
    fs::path d = fs::path(IA_FIXTURES_DIR) / set / type;
    if (!fs::exists(d)) continue;
    for (const auto& e : fs::directory_iterator(d))
      if (fs::exists(e.path() / "reference.json")) dirs.push_back(e.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

void expect_all_pass(const std::vector<std::string>& dirs) {
  VerifyOptions opts;
  for (const auto& d : dirs) {
    auto results = verify_model_fixture(d, d, opts);
    ASSERT_FALSE(results.empty()) << d;
    for (const auto& r : results) EXPECT_EQ(r.status, CaseStatus::Pass) << format_case_line(r);
  }
}

}  // namespace

TEST(VisionFixtures, BundledPassVerify) {
  auto dirs = fixture_dirs("models");
  ASSERT_EQ(dirs.size(), 6u);  // ViTModel, ViTForImageClassification, CLIPModel, CLIPVisionModel(+WithProjection), LLaVA
  expect_all_pass(dirs);
}

TEST(VisionFixtures, OptionVariantsPassVerify) {
  auto dirs = fixture_dirs("vision_variants");
  ASSERT_EQ(dirs.size(), 7u);  // the two CLIPVisionModel variants live in models/clip_vision_model
  expect_all_pass(dirs);
}

// The image-prompt decode rule (mask rebuilt from zero keys, positions = attended count)
// gives the same logits as one uncached forward over prompt + generated tokens when the
// language model has no k bias (llama): padding keys stay zero, so both agree.
TEST(VisionFixtures, LlavaCachedGenerationMatchesUncachedForward) {
  const std::string dir = std::string(IA_FIXTURES_DIR) + "/models/llava/LlavaForConditionalGeneration";
  auto m = load_model(dir);
  TensorMap in;
  std::vector<int64_t> ids = {1, 17, 127, 45, 99, 23};
  in["input_ids"] = Tensor::from_vector_i64(ids, {1, 6});
  std::vector<float> px(3 * 32 * 32);
  for (size_t i = 0; i < px.size(); ++i) px[i] = std::sin(0.37f * float(i));
  in["pixel_values"] = Tensor::from_vector(px, {1, 3, 32, 32});
  GenerateOptions opts;
  opts.max_new_tokens = 5;
  opts.eos_stops = false;
  TensorMap g = m->generate(in, opts);
  const Tensor& seq = g.at("sequences");
  ASSERT_EQ(seq.shape(), (Shape{1, 11}));
  TensorMap f = m->forward({{"input_ids", seq}, {"pixel_values", in["pixel_values"]}});
  const Tensor& logits = f.at("logits");  // [1, 11 - 1 + 16, V]
  const Tensor& sl = g.at("step_logits");
  const int64_t V = sl.dim(2), L = logits.dim(1);
  ASSERT_EQ(L, 26);
  double worst = 0;
  for (int64_t s = 0; s < 5; ++s) {
    const float* a = sl.f32() + s * V;
    const float* b = logits.f32() + (L - 6 + s) * V;  // the position that predicted new token s
    for (int64_t v = 0; v < V; ++v) worst = std::max(worst, double(std::fabs(a[v] - b[v])));
  }
  EXPECT_LT(worst, 1e-4);
}
