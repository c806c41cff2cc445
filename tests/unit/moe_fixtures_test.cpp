// Mixture-of-experts family: fixtures pass verify, the family template owns the
// MoE types, analytics agree with the verified router logits, config errors are clear.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/decoder_only/decoder_params.h"
#include "templates/family.h"
#include "templates/moe/moe_model.h"
#include "templates/moe/moe_rows.h"
#include "verify/verify.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> moe_fixture_dirs() {
  std::vector<std::string> dirs;
  fs::path root = fs::path(IA_FIXTURES_DIR) / "models";
  for (const auto& type : moe_model_types()) {
    fs::path d = root / type;
    if (!fs::exists(d)) continue;
    for (const auto& e : fs::directory_iterator(d))
      if (fs::exists(e.path() / "reference.json")) dirs.push_back(e.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::unique_ptr<MoeModel> load(const std::string& dir) {
  ModelContext ctx = ModelContext::open(dir);
  ctx.checkpoint = Checkpoint::open_dir(dir);
  return std::make_unique<MoeModel>(ctx);
}

TensorMap sample_inputs(int64_t vocab, int64_t B, int64_t T) {
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < B * T; ++i) ids.push_back((11 * i + 5) % vocab);
  return {{"input_ids", Tensor::from_vector_i64(ids, {B, T})}};
}

}  // namespace

TEST(MoeFixtures, EveryMoeTypeHasAFixtureAndPassesVerify) {
  auto dirs = moe_fixture_dirs();
  ASSERT_EQ(dirs.size(), moe_model_types().size());
  VerifyOptions opts;
  for (const auto& d : dirs) {
    auto results = verify_model_fixture(d, d, opts);
    ASSERT_GE(results.size(), 2u) << d;  // forward (with router logits) + generate
    for (const auto& r : results) EXPECT_EQ(r.status, CaseStatus::Pass) << format_case_line(r);
  }
}

TEST(MoeFixtures, FamilyTemplateOwnsTheMoeTypes) {
  for (const auto& t : moe_model_types()) {
    const FamilyTemplate* f = find_template(t);
    ASSERT_NE(f, nullptr) << t;
    EXPECT_EQ(f->family, Family::MixtureOfExperts) << t;
    const auto& dec = decoder_model_types();
    EXPECT_EQ(std::find(dec.begin(), dec.end(), t), dec.end()) << t << " also listed by decoder-only";
  }
  for (const auto& d : moe_fixture_dirs()) {
    auto m = load(d);
    EXPECT_EQ(m->family(), Family::MixtureOfExperts);
    EXPECT_TRUE(m->describe().contains("moe"));
  }
}

// Analytics recorded during forward() == top-k of the router logits forward() returned.
TEST(MoeAnalytics, CountsMatchTopKOfRouterLogits) {
  for (const auto& d : moe_fixture_dirs()) {
    auto m = load(d);
    const int64_t B = 2, T = 5, E = m->num_experts(), k = m->experts_per_token();
    TensorMap out = m->forward(sample_inputs(m->vocab(), B, T));
    auto layers = m->moe_layers();
    ASSERT_FALSE(layers.empty()) << d;
    for (size_t j = 0; j < layers.size(); ++j) {
      const Tensor& rl = out.at("router_logits." + std::to_string(j));
      ASSERT_EQ(rl.shape(), (Shape{B * T, E})) << d;
      const MoeLayerStats& s = m->analytics().layer(layers[j]);
      EXPECT_EQ(s.tokens, B * T);
      std::vector<int64_t> counts(size_t(E), 0);
      std::map<std::vector<int32_t>, int64_t> combos;
      for (int64_t r = 0; r < B * T; ++r) {
        const float* lg = rl.f32() + r * E;
        std::vector<int32_t> order(static_cast<size_t>(E));
        for (int32_t e = 0; e < E; ++e) order[size_t(e)] = e;
        std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return lg[a] > lg[b]; });
        order.resize(size_t(k));
        // Per-token ids in rank order, weights = softmax (renormalised for mixtral) of the logits.
        double mx = *std::max_element(lg, lg + E), z = 0, zk = 0;
        for (int64_t e = 0; e < E; ++e) z += std::exp(lg[e] - mx);
        for (int32_t e : order) zk += std::exp(lg[e] - mx);
        for (int64_t q = 0; q < k; ++q) {
          EXPECT_EQ(s.token_experts[size_t(s.token_offsets[size_t(r)] + q)], order[size_t(q)]);
          double w = std::exp(lg[order[size_t(q)]] - mx) / (m->moe_block(layers[j])->norm_topk() ? zk : z);
          EXPECT_NEAR(s.token_weights[size_t(s.token_offsets[size_t(r)] + q)], w, 1e-5);
          counts[size_t(order[size_t(q)])]++;
        }
        std::sort(order.begin(), order.end());
        combos[order]++;
      }
      EXPECT_EQ(s.counts, counts) << d << " layer " << layers[j];
      EXPECT_EQ(s.combos, combos);
      auto top = s.top_experts(1);
      ASSERT_EQ(top.size(), 1u);
      EXPECT_EQ(top[0].second, *std::max_element(counts.begin(), counts.end()));
      int64_t combo_total = 0;
      for (const auto& [_, n] : s.top_combos(100)) combo_total += n;
      EXPECT_EQ(combo_total, B * T);
    }
  }
}

TEST(MoeAnalytics, GenerateRecordsEveryRoutedToken) {
  for (const auto& d : moe_fixture_dirs()) {
    auto m = load(d);
    GenerateOptions opts;
    opts.max_new_tokens = 4;
    opts.eos_stops = false;
    m->generate(sample_inputs(m->vocab(), 1, 6), opts);
    for (const MoeLayerStats* s : m->analytics().layers()) {
      EXPECT_EQ(s->tokens, 6 + 3) << d;  // prompt + every new token but the last is fed back
      int64_t total = 0;
      for (int64_t c : s->counts) total += c;
      EXPECT_EQ(total, s->tokens * m->experts_per_token());
    }
  }
}

TEST(MoeOptions, TopKOverrideChangesAndRestores) {
  for (const auto& d : moe_fixture_dirs()) {
    auto m = load(d);
    TensorMap in = sample_inputs(m->vocab(), 1, 6);
    const int64_t k0 = m->experts_per_token();
    Tensor base = m->forward(in).at("logits");
    m->set_experts_per_token(1);
    EXPECT_EQ(m->experts_per_token(), 1);
    Tensor one = m->forward(in).at("logits");
    double diff = 0;
    for (int64_t i = 0; i < base.numel(); ++i) diff = std::max(diff, double(std::fabs(base.f32()[i] - one.f32()[i])));
    EXPECT_GT(diff, 1e-4) << d;
    for (const MoeLayerStats* s : m->analytics().layers()) EXPECT_EQ(s->token_experts.size(), size_t(s->tokens));
    m->set_experts_per_token(0);
    EXPECT_EQ(m->experts_per_token(), k0);
    Tensor again = m->forward(in).at("logits");
    for (int64_t i = 0; i < base.numel(); ++i) ASSERT_EQ(base.f32()[i], again.f32()[i]);
    EXPECT_THROW(m->set_experts_per_token(m->num_experts() + 1), Error);
    EXPECT_THROW(m->set_experts_per_token(-1), Error);
  }
}

TEST(MoeConfig, BadRoutingConfigIsAClearError) {
  auto dirs = moe_fixture_dirs();
  ASSERT_FALSE(dirs.empty());
  for (const auto& d : dirs) {
    nlohmann::json cfg = nlohmann::json::parse(std::ifstream(fs::path(d) / "config.json"));
    cfg["num_experts_per_tok"] = 99;
    const ia::test::ScratchDir scratch("moe_bad_" + cfg["model_type"].get<std::string>());
    const fs::path& tmp = scratch.path();
    std::ofstream(tmp / "config.json") << cfg.dump();
    fs::copy_file(fs::path(d) / "model.safetensors", tmp / "model.safetensors", fs::copy_options::overwrite_existing);
    try {
      load(tmp.string());
      ADD_FAILURE() << "expected an error for num_experts_per_tok=99";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("num_experts_per_tok"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
    }
  }
}
