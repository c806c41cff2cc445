// Benchmark support of the mixture-of-experts and state-space families: the
// real-size presets have the real models' shapes, a MoE decode step is charged
// only for the experts a token runs, and `bench` measures MoE and state-space
// checkpoints through their step-decoding APIs.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench/bench_runner.h"
#include "bench/checkpoint_maker.h"
#include "bench/moe_active_weights.h"
#include "bench/presets.h"
#include "formats/checkpoint.h"
#include "formats/hf_config.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

int64_t count(const std::string& name) {
  int64_t n = 0;
  for (const auto& t : bench::find_preset(name).tensors) n += shape_numel(t.shape);
  return n;
}

}  // namespace

TEST(BenchMoeSsm, RealPresetsHaveRealShapes) {
  EXPECT_EQ(count("mamba-130m"), 129135360);  // state-spaces/mamba-130m-hf (tied head)
  EXPECT_EQ(count("rwkv-169m"), 169342464);   // RWKV/rwkv-4-169m-pile
  EXPECT_EQ(count("mixtral-1b"), 927589376);
  bench::Preset m = bench::find_preset("mixtral-1b");
  EXPECT_EQ(m.config["num_local_experts"], 8);
  EXPECT_EQ(m.config["num_experts_per_tok"], 2);
}

TEST(BenchMoeSsm, MoeDecodeIsChargedForTheActiveExpertsOnly) {
  const ia::test::ScratchDir dir_scratch("bench_moe");
  fs::path dir = dir_scratch.path() / "out";
  bench::MakeOptions mo;
  mo.out_dir = dir.string();
  bench::make_checkpoint(bench::find_preset("tiny-mixtral-test"), mo);  // 4 experts, top-2
  auto ck = Checkpoint::open_dir(dir.string());
  HFConfig cfg = HFConfig::load((dir / "config.json").string());
  bench::WeightStats w = bench::weight_stats(*ck);
  bench::MoeActiveWeights a = bench::moe_active_weights(*ck, cfg, w.parameters);
  ASSERT_TRUE(a.is_moe);
  EXPECT_EQ(a.experts, 4);
  EXPECT_EQ(a.top_k, 2);
  // 2 layers x 4 experts x (w1 + w2 + w3) of 64 x 96.
  EXPECT_EQ(a.expert_parameters, 2 * 4 * 3 * 64 * 96);
  EXPECT_EQ(a.active_parameters, w.parameters - a.expert_parameters / 2);

  bench::BenchOptions o;
  o.threads = 2;
  o.prompt_tokens = 8;
  o.gen_tokens = 3;
  o.bandwidth_gb_per_s = 10;
  nlohmann::json r = bench::run_bench(dir.string(), o);
  EXPECT_EQ(r["family"], "mixture-of-experts");
  EXPECT_EQ(r["active_parameters"], a.active_parameters);
  EXPECT_EQ(r["weight_bytes_per_token"], w.bytes_per_token - a.expert_bytes / 2);
  EXPECT_GT(r["decode_tokens_per_s"].get<double>(), 0.0);
}

TEST(BenchMoeSsm, StateSpaceCheckpointsAreMeasured) {
  for (const char* preset : {"tiny-mamba-test", "tiny-rwkv-test"}) {
    const ia::test::ScratchDir dir_scratch(std::string("bench_ssm_") + preset);
    fs::path dir = dir_scratch.path() / "out";
    bench::MakeOptions mo;
    mo.out_dir = dir.string();
    bench::make_checkpoint(bench::find_preset(preset), mo);
    bench::BenchOptions o;
    o.threads = 2;
    o.prompt_tokens = 8;
    o.gen_tokens = 3;
    o.bandwidth_gb_per_s = 10;
    nlohmann::json r = bench::run_bench(dir.string(), o);
    EXPECT_EQ(r["family"], "state-space") << preset;
    EXPECT_EQ(r["timing"], "prefill+decode_step") << preset;
    EXPECT_FALSE(r.contains("active_parameters"));
  }
}
