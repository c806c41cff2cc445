// SAM: every bundled reference case and every generated option/prompt case
// (tests/fixtures/sam_blip_variants/sam: windows that do not divide the grid,
// no relative/absolute positions, boxes, masks, default labels, no prompt,
// batches of images and prompts) passes; bad inputs fail with clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "formats/safetensors.h"
#include "templates/model.h"
#include "verify/verify.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

int run_all(const fs::path& root, const fs::path& type_dir) {
  int cases = 0;
  for (const auto& e : fs::directory_iterator(root / type_dir)) {
    if (!fs::exists(e.path() / "reference.json")) continue;
    const std::string rel = fs::relative(e.path(), root).generic_string();
    for (const CaseResult& r : verify_model_fixture(e.path().string(), rel, VerifyOptions{})) {
      ++cases;
      EXPECT_EQ(r.status, CaseStatus::Pass) << format_case_line(r);
    }
  }
  return cases;
}

std::string bundled() { return (fs::path(IA_FIXTURES_DIR) / "models" / "sam" / "SamModel").string(); }

TensorMap forward_inputs() {
  auto ref = SafetensorsFile::open(bundled() + "/reference.safetensors");
  return {{"pixel_values", ref->tensor("forward.in.pixel_values")},
          {"input_points", ref->tensor("forward.in.input_points")},
          {"input_labels", ref->tensor("forward.in.input_labels")}};
}

std::string error_of(Model& m, const TensorMap& in) {
  try {
    m.forward(in);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SamFixtures, BundledFixturePasses) {
  EXPECT_EQ(run_all(fs::path(IA_FIXTURES_DIR) / "models", "sam"), 2);
}

TEST(SamFixtures, OptionAndPromptVariantsPass) {
  EXPECT_GE(run_all(fs::path(IA_FIXTURES_DIR) / "sam_blip_variants", "sam"), 18);
}

TEST(SamModel, ReusesEmbeddingsAndHonoursMultimask) {
  auto m = load_model(bundled());
  TensorMap in = forward_inputs();
  TensorMap full = m->forward(in);
  ASSERT_EQ(full["pred_masks"].shape(), Shape({1, 1, 3, 32, 32}));
  // Same prompts on the returned embeddings give the same masks.
  TensorMap again = {{"image_embeddings", full["image_embeddings"]}, {"input_points", in["input_points"]},
                     {"input_labels", in["input_labels"]}};
  TensorMap r = m->forward(again);
  for (int64_t i = 0; i < r["pred_masks"].numel(); ++i)
    ASSERT_EQ(r["pred_masks"].f32()[i], full["pred_masks"].f32()[i]);
  again["multimask_output"] = Tensor::from_vector_i64({0}, {1});
  EXPECT_EQ(m->forward(again)["pred_masks"].shape(), Shape({1, 1, 1, 32, 32}));
}

TEST(SamModel, BadInputsGiveClearErrors) {
  auto m = load_model(bundled());
  TensorMap in = forward_inputs();
  TensorMap bad = in;
  bad["pixel_values"] = Tensor::zeros(DType::F32, {1, 3, 32, 32});
  EXPECT_NE(error_of(*m, bad).find("pixel_values"), std::string::npos);
  bad = in;
  bad["input_labels"] = Tensor::zeros(DType::I64, {1, 1, 3});
  EXPECT_NE(error_of(*m, bad).find("input_labels"), std::string::npos);
  bad = in;
  bad["input_points"] = Tensor::zeros(DType::F32, {1, 2, 3});
  EXPECT_NE(error_of(*m, bad).find("input_points"), std::string::npos);
  bad = in;
  bad["input_boxes"] = Tensor::zeros(DType::F32, {1, 2, 4});  // 2 boxes for 1 point batch
  EXPECT_NE(error_of(*m, bad).find("boxes"), std::string::npos);
  bad = in;
  bad["image_embeddings"] = Tensor::zeros(DType::F32, {1, 16, 8, 8});
  EXPECT_NE(error_of(*m, bad).find("not both"), std::string::npos);
  auto fresh = load_model(bundled());
  EXPECT_NE(error_of(*fresh, {{"input_points", in["input_points"]}}).find("pixel_values"), std::string::npos);
}
