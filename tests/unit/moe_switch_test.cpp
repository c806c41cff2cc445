// switch_transformers: the bundled fixture and the generated option fixtures
// (tests/fixtures/switch_variants: capacity dropping, sparse-step layouts, router
// bias, bfloat16 router, untied head) pass verify; the sparse-step layout follows
// SwitchTransformersConfig/Stack; capacity really drops tokens per batch row.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/moe/switch_model.h"
#include "verify/verify.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

const fs::path kBundled = fs::path(IA_FIXTURES_DIR) / "models" / "switch_transformers";
const fs::path kVariants = fs::path(IA_FIXTURES_DIR) / "switch_variants" / "switch_transformers";

int run_all(const fs::path& dir) {
  int cases = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!fs::exists(e.path() / "reference.json")) continue;
    for (const CaseResult& r : verify_model_fixture(e.path().string(), e.path().filename().string(), VerifyOptions{})) {
      ++cases;
      EXPECT_EQ(r.status, CaseStatus::Pass) << format_case_line(r);
    }
  }
  return cases;
}

std::unique_ptr<SwitchModel> load(const fs::path& dir) {
  ModelContext ctx = ModelContext::open(dir.string());
  ctx.checkpoint = Checkpoint::open_dir(dir.string());
  return std::make_unique<SwitchModel>(ctx);
}

std::vector<int64_t> sparse_ids(const std::vector<bool>& v) {
  std::vector<int64_t> r;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i]) r.push_back(int64_t(i));
  return r;
}

SwitchLayout layout_of(const nlohmann::json& j, int64_t n_enc, int64_t n_dec) {
  return switch_layout_from_config(HFConfig::from_json(j, "config.json"), n_enc, n_dec);
}

}  // namespace

TEST(Switch, BundledFixturePassesVerify) { EXPECT_EQ(run_all(kBundled), 2); }

TEST(Switch, OptionFixturesPassVerify) { EXPECT_GE(run_all(kVariants), 10); }

TEST(Switch, SparseStepLayoutFollowsTheConfigClass) {
  // num_layers // num_sparse layers; block i sparse when i % step == 1 (or step == 1).
  SwitchLayout l = layout_of({{"num_sparse_encoder_layers", 3}, {"num_sparse_decoder_layers", 2}}, 12, 12);
  EXPECT_EQ(l.encoder_sparse_step, 4);
  EXPECT_EQ(sparse_ids(l.encoder_sparse), (std::vector<int64_t>{1, 5, 9}));
  EXPECT_EQ(l.decoder_sparse_step, 6);
  EXPECT_EQ(sparse_ids(l.decoder_sparse), (std::vector<int64_t>{1, 7}));
  // Defaults: 3 sparse layers of each stack.
  l = layout_of(nlohmann::json::object(), 6, 6);
  EXPECT_EQ(sparse_ids(l.encoder_sparse), (std::vector<int64_t>{1, 3, 5}));
  // step 1: every block.
  l = layout_of({{"num_sparse_encoder_layers", 4}}, 4, 4);
  EXPECT_EQ(sparse_ids(l.encoder_sparse), (std::vector<int64_t>{0, 1, 2, 3}));
  // Zero sparse layers: step = num_layers, which still makes block 1 sparse (4.44's "HACK").
  l = layout_of({{"num_sparse_encoder_layers", 0}, {"num_sparse_decoder_layers", 0}}, 3, 1);
  EXPECT_EQ(sparse_ids(l.encoder_sparse), (std::vector<int64_t>{1}));
  EXPECT_EQ(sparse_ids(l.decoder_sparse), (std::vector<int64_t>{0}));  // step 1 when one layer
  // More sparse layers than layers: step 0 -> none.
  l = layout_of({{"num_sparse_encoder_layers", 5}}, 2, 2);
  EXPECT_TRUE(sparse_ids(l.encoder_sparse).empty());
  // An explicit step in config.json wins over the counts.
  l = layout_of({{"num_sparse_encoder_layers", 1}, {"encoder_sparse_step", 3}}, 7, 7);
  EXPECT_EQ(sparse_ids(l.encoder_sparse), (std::vector<int64_t>{1, 4}));
}

TEST(Switch, CapacityDropsTokensPerBatchRowInSequenceOrder) {
  auto m = load(kVariants / "capacity1");
  SwitchSparseFfn* f = m->sparse_block(false, 1);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->capacity(), 1);
  const int64_t D = m->params().d_model, B = 3, S = 9;
  std::vector<float> x(size_t(B * S * D)), y(size_t(B * S * D)), single(static_cast<size_t>(D));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(0.37 * double(i)) + 0.1 * double(i % 7));
  f->forward_batch(x.data(), B, S, y.data());
  const std::vector<uint8_t> kept = f->kept();
  const std::vector<int64_t> reported = f->expert_index();
  const std::vector<float> logits = f->router_logits(), prob = f->top_prob();
  const int64_t E = f->n_experts();
  // The experts 4.44's SparseMLP runs: columns of the [B, E, S] mask reshaped to [B*S, E].
  std::vector<bool> active(size_t(E), false);
  for (int64_t r = 0; r < B * S; ++r)
    if (kept[size_t(r)]) active[size_t(((r / S) * E * S + reported[size_t(r)] * S + r % S) % E)] = true;
  int64_t dropped = 0, skipped = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int64_t> used(size_t(E), 0);
    for (int64_t t = 0; t < S; ++t) {
      const int64_t r = b * S + t;
      int64_t best = 0;
      for (int64_t e = 1; e < E; ++e)
        if (logits[size_t(r * E + e)] > logits[size_t(r * E + best)]) best = e;
      // The first token of a row to choose an expert is kept, later ones are dropped.
      const bool expect_kept = used[size_t(best)]++ == 0;
      ASSERT_EQ(bool(kept[size_t(r)]), expect_kept) << "row " << b << " token " << t;
      EXPECT_EQ(reported[size_t(r)], expect_kept ? best : 0);
      if (!expect_kept || !active[size_t(best)]) {
        dropped += expect_kept ? 0 : 1;
        skipped += expect_kept ? 1 : 0;
        for (int64_t d = 0; d < D; ++d)  // dropped: top prob * input, as SparseMLP's clone
          EXPECT_FLOAT_EQ(y[size_t(r * D + d)], prob[size_t(r)] * x[size_t(r * D + d)]);
      } else {
        // Kept: the expert's output, the same as when the token is routed alone.
        f->forward_batch(x.data() + r * D, 1, 1, single.data());
        for (int64_t d = 0; d < D; ++d) EXPECT_NEAR(y[size_t(r * D + d)], single[size_t(d)], 1e-5);
        EXPECT_NE(single[0], prob[size_t(r)] * x[size_t(r * D)]);
      }
    }
  }
  EXPECT_GE(dropped, B * (S - E));  // at most E tokens of a row fit
  EXPECT_LT(skipped, B * S - dropped);  // most kept tokens reach their expert
}

TEST(Switch, DescribeReportsLayoutAndRouter) {
  auto m = load(kVariants / "capacity2-step1-bias-gelu");
  EXPECT_EQ(m->family(), Family::MixtureOfExperts);
  nlohmann::json j = m->describe();
  EXPECT_EQ(j["moe"]["encoder_sparse_layers"], nlohmann::json({0, 1, 2}));
  EXPECT_EQ(j["moe"]["decoder_sparse_layers"], nlohmann::json({1, 3}));
  EXPECT_EQ(j["moe"]["expert_capacity"], 2);
  EXPECT_EQ(j["moe"]["router_bias"], true);
}

TEST(Switch, BadRouterDtypeIsAClearError) {
  const ia::test::ScratchDir scratch("switch_bad_dtype");
  const fs::path& dir = scratch.path();
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(kVariants / "capacity1" / "config.json"));
  cfg["router_dtype"] = "float64";
  std::ofstream(dir / "config.json") << cfg.dump();
  fs::copy_file(kVariants / "capacity1" / "model.safetensors", dir / "model.safetensors",
                fs::copy_options::overwrite_existing);
  try {
    load(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("router_dtype"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
}
