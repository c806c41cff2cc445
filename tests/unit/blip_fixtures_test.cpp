// BLIP: every bundled reference case and the generated variants
// (tests/fixtures/sam_blip_variants/blip: text width != vision width, 3x3
// patches, padded rows, generation stopping at [SEP] with padding after it)
// pass; bad inputs fail with clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/safetensors.h"
#include "templates/model.h"
#include "verify/verify.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

int run_all(const fs::path& root) {
  int cases = 0;
  for (const auto& e : fs::directory_iterator(root / "blip")) {
    if (!fs::exists(e.path() / "reference.json")) continue;
    const std::string rel = fs::relative(e.path(), root).generic_string();
    for (const CaseResult& r : verify_model_fixture(e.path().string(), rel, VerifyOptions{})) {
      ++cases;
      EXPECT_EQ(r.status, CaseStatus::Pass) << format_case_line(r);
    }
  }
  return cases;
}

std::string captioner() {
  return (fs::path(IA_FIXTURES_DIR) / "models" / "blip" / "BlipForConditionalGeneration").string();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(BlipFixtures, BundledFixturesPass) { EXPECT_EQ(run_all(fs::path(IA_FIXTURES_DIR) / "models"), 3); }

TEST(BlipFixtures, VariantsPass) { EXPECT_EQ(run_all(fs::path(IA_FIXTURES_DIR) / "sam_blip_variants"), 3); }

TEST(BlipModel, GenerateWithoutPromptStartsFromBos) {
  auto m = load_model(captioner());
  auto ref = SafetensorsFile::open(captioner() + "/reference.safetensors");
  GenerateOptions o;
  o.max_new_tokens = 3;
  TensorMap out = m->generate({{"pixel_values", ref->tensor("generate.in.pixel_values")}}, o);
  ASSERT_EQ(out["sequences"].dim(1), 4);
  EXPECT_EQ(out["sequences"].i64()[0], 126);  // text_config.bos_token_id
  EXPECT_EQ(out["step_logits"].shape(), Shape({1, 3, 128}));
}

TEST(BlipModel, BadInputsGiveClearErrors) {
  auto m = load_model(captioner());
  auto ref = SafetensorsFile::open(captioner() + "/reference.safetensors");
  Tensor px = ref->tensor("forward.in.pixel_values");
  Tensor ids = ref->tensor("forward.in.input_ids").to_i64();
  ids.i64()[1] = 500;  // vocab is 128
  EXPECT_NE(error_of([&] { m->forward({{"pixel_values", px}, {"input_ids", ids}}); }).find("500"), std::string::npos);
  EXPECT_NE(error_of([&] {
              m->forward({{"pixel_values", Tensor::zeros(DType::F32, {2, 1, 32, 32})},
                          {"input_ids", ref->tensor("forward.in.input_ids")}});
            }).find("pixel_values"),
            std::string::npos);
  GenerateOptions o;
  EXPECT_NE(error_of([&] {
              m->generate({{"pixel_values", ref->tensor("generate.in.pixel_values")},
                           {"input_ids", Tensor::from_vector_i64({126}, {1, 1})}},
                          o);
            }).find("input_ids"),
            std::string::npos);
  // A 40-token prompt is beyond max_position_embeddings (32).
  Tensor long_prompt = Tensor::from_vector_i64(std::vector<int64_t>(40, 5), {1, 40});
  EXPECT_NE(error_of([&] {
              m->generate({{"pixel_values", ref->tensor("generate.in.pixel_values")}, {"input_ids", long_prompt}}, o);
            }).find("max_position_embeddings"),
            std::string::npos);
}
