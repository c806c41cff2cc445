// Every bundled decoder-only fixture passes verify, and cached decoding agrees
// with full uncached forward passes over the same tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "templates/decoder_only/decoder_model.h"
#include "templates/decoder_only/decoder_params.h"
#include "verify/verify.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

// Fixture directories of the decoder-only model types (each holds config.json + reference.json).
std::vector<std::string> decoder_fixture_dirs() {
  std::vector<std::string> dirs;
  fs::path root = fs::path(IA_FIXTURES_DIR) / "models";
  for (const auto& type : decoder_model_types()) {
    fs::path d = root / type;
    if (!fs::exists(d)) continue;
    for (const auto& e : fs::directory_iterator(d))
      if (fs::exists(e.path() / "reference.json")) dirs.push_back(e.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::unique_ptr<DecoderModel> load(const std::string& dir) {
  ModelContext ctx = ModelContext::open(dir);
  ctx.checkpoint = Checkpoint::open_dir(dir);
  return std::make_unique<DecoderModel>(ctx);
}

}  // namespace

TEST(DecoderFixtures, EveryModelTypeHasAFixture) {
  auto dirs = decoder_fixture_dirs();
  for (const auto& type : decoder_model_types()) {
    bool found = std::any_of(dirs.begin(), dirs.end(),
                             [&](const std::string& d) { return fs::path(d).parent_path().filename() == type; });
    EXPECT_TRUE(found) << "no fixture for " << type;
  }
  EXPECT_EQ(decoder_model_types().size(), 16u);
}

TEST(DecoderFixtures, AllPassVerify) {
  auto dirs = decoder_fixture_dirs();
  ASSERT_GE(dirs.size(), 17u);
  VerifyOptions opts;
  for (const auto& d : dirs) {
    auto results = verify_model_fixture(d, d, opts);
    ASSERT_FALSE(results.empty()) << d;
    for (const auto& r : results) EXPECT_EQ(r.status, CaseStatus::Pass) << format_case_line(r);
  }
}

// step_logits of cached greedy decoding == logits of one uncached forward over prompt + new tokens.
TEST(DecoderFixtures, CachedGenerationMatchesUncachedForward) {
  for (const auto& d : decoder_fixture_dirs()) {
    auto m = load(d);
    const int64_t P = 6, V = m->vocab();
    std::vector<int64_t> prompt;
    for (int64_t i = 0; i < 2 * P; ++i) prompt.push_back((7 * i + 3) % V);
    TensorMap in{{"input_ids", Tensor::from_vector_i64(prompt, {2, P})}};
    GenerateOptions opts;
    opts.max_new_tokens = 9;
    opts.eos_stops = false;
    TensorMap g = m->generate(in, opts);
    const Tensor& seq = g.at("sequences");
    const Tensor& sl = g.at("step_logits");
    ASSERT_EQ(seq.shape(), (Shape{2, P + 9})) << d;
    ASSERT_EQ(sl.shape(), (Shape{2, 9, V})) << d;
    TensorMap f = m->forward({{"input_ids", seq}});
    const Tensor& logits = f.at("logits");
    double worst = 0;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t s = 0; s < 9; ++s)
        for (int64_t v = 0; v < V; ++v) {
          float a = sl.f32()[(b * 9 + s) * V + v];
          float e = logits.f32()[(b * (P + 9) + P - 1 + s) * V + v];
          worst = std::max(worst, double(std::fabs(a - e)));
        }
    EXPECT_LT(worst, 2e-4) << d;
    // Greedy tokens are the argmax of the logits that chose them.
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t s = 0; s < 9; ++s) {
        const float* row = sl.f32() + (b * 9 + s) * V;
        int64_t best = std::max_element(row, row + V) - row;
        EXPECT_EQ(seq.i64()[b * (P + 9) + P + s], best) << d;
      }
  }
}

TEST(DecoderFixtures, DescribeAndTasks) {
  auto m = load((fs::path(IA_FIXTURES_DIR) / "models/gemma2/Gemma2ForCausalLM").string());
  auto j = m->describe();
  EXPECT_EQ(j["template"], "decoder-only");
  EXPECT_EQ(j["norm"]["kind"], "rms_norm_1p");
  EXPECT_EQ(j["residual"], "sandwich");
  EXPECT_EQ(j["attention"]["sliding_window_per_layer"][0], 4);
  EXPECT_EQ(j["attention"]["sliding_window_per_layer"][1], 0);
  EXPECT_EQ(m->tasks(), std::vector<std::string>{"text-generation"});
  EXPECT_EQ(m->family(), Family::DecoderOnly);
}
