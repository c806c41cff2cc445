// make-checkpoint: the written directory loads, its config matches the preset
// and every tensor has the preset's name, shape and dtype.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "bench/checkpoint_maker.h"
#include "bench/presets.h"
#include "core/error.h"
#include "formats/checkpoint.h"
#include "formats/hf_config.h"
#include "scratch_dir.h"

namespace fs = std::filesystem;
using namespace ia;

namespace {
using ia::test::ScratchDir;

// The (not yet existing) "out" folder of a scratch directory: where a test writes a checkpoint.
fs::path out_dir(const ScratchDir& scratch) { return scratch.path() / "out"; }

void expect_matches_preset(const bench::Preset& p, const fs::path& dir, DType dtype) {
  auto ck = Checkpoint::open_dir(dir.string());
  EXPECT_EQ(ck->names().size(), p.tensors.size());
  for (const auto& spec : p.tensors) {
    ASSERT_TRUE(ck->has(spec.name)) << spec.name;
    EXPECT_EQ(ck->info(spec.name).shape, spec.shape) << spec.name;
    EXPECT_EQ(ck->info(spec.name).dtype, dtype) << spec.name;
  }
  HFConfig cfg = HFConfig::load((dir / "config.json").string());
  for (auto it = p.config.begin(); it != p.config.end(); ++it) EXPECT_EQ(cfg.raw()[it.key()], it.value()) << it.key();
}
}  // namespace

TEST(BenchCheckpoint, TinyLlamaLoadsWithPresetShapes) {
  bench::Preset p = bench::find_preset("tiny-llama-test");
  const ScratchDir scratch("bench_llama");
  fs::path dir = out_dir(scratch);
  bench::MakeOptions o;
  o.out_dir = dir.string();
  bench::MakeResult r = bench::make_checkpoint(p, o);
  EXPECT_EQ(r.shards, 1);
  EXPECT_GT(r.parameters, 0);
  expect_matches_preset(p, dir, DType::F32);
  EXPECT_TRUE(fs::exists(dir / "generation_config.json"));
  // Norm weights are ones, projections are random with roughly the configured std.
  auto ck = Checkpoint::open_dir(dir.string());
  Tensor norm = ck->get("model.norm.weight");
  for (int64_t i = 0; i < norm.numel(); ++i) ASSERT_EQ(norm.f32()[i], 1.f);
  Tensor w = ck->get("model.layers.0.mlp.gate_proj.weight");
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    sum += w.f32()[i];
    sq += double(w.f32()[i]) * w.f32()[i];
  }
  const double mean = sum / double(w.numel()), sd = std::sqrt(sq / double(w.numel()) - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.002);
  EXPECT_NEAR(sd, 0.02, 0.002);
}

TEST(BenchCheckpoint, RealPresetsHaveRealShapes) {
  // The real-size presets are checked as data (no weights written): parameter counts of the real models.
  auto count = [](const std::string& name) {
    int64_t n = 0;
    for (const auto& t : bench::find_preset(name).tensors) n += shape_numel(t.shape);
    return n;
  };
  EXPECT_EQ(count("gpt2-124m"), 124439808);      // openai-community/gpt2
  EXPECT_EQ(count("tinyllama-1.1b"), 1100048384);  // TinyLlama/TinyLlama-1.1B
  bench::Preset t = bench::find_preset("tinyllama-1.1b");
  EXPECT_EQ(t.config["num_hidden_layers"], 22);
  EXPECT_EQ(t.config["hidden_size"], 2048);
  EXPECT_EQ(t.config["num_key_value_heads"], 4);
  EXPECT_EQ(t.config["intermediate_size"], 5632);
  EXPECT_EQ(t.config["vocab_size"], 32000);
  EXPECT_EQ(t.config["architectures"][0], "LlamaForCausalLM");
  bench::Preset b = bench::find_preset("bert-base");
  EXPECT_EQ(b.config["architectures"][0], "BertForMaskedLM");
  EXPECT_EQ(b.config["vocab_size"], 30522);
}

TEST(BenchCheckpoint, ShardsWithIndexAndHalfDtypes) {
  bench::Preset p = bench::find_preset("tiny-gpt2-test");
  const ScratchDir scratch("bench_gpt2");
  fs::path dir = out_dir(scratch);
  bench::MakeOptions o;
  o.out_dir = dir.string();
  o.dtype = DType::BF16;
  o.max_shard_bytes = 64 * 1024;  // forces several shards
  bench::MakeResult r = bench::make_checkpoint(p, o);
  EXPECT_GT(r.shards, 1);
  EXPECT_TRUE(fs::exists(dir / "model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  expect_matches_preset(p, dir, DType::BF16);
  EXPECT_EQ(HFConfig::load((dir / "config.json").string()).get_string("torch_dtype"), "bfloat16");
  // Re-making unsharded in F16 removes the shards.
  o.dtype = DType::F16;
  o.max_shard_bytes = size_t(1) << 30;
  EXPECT_EQ(bench::make_checkpoint(p, o).shards, 1);
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.index.json"));
  expect_matches_preset(p, dir, DType::F16);
}

TEST(BenchCheckpoint, SameSeedSameWeightsDifferentSeedDifferent) {
  std::vector<float> a(200000), b(200000), c(200000);
  bench::fill_normal(a.data(), a.size(), 0.02f, 7);
  bench::fill_normal(b.data(), b.size(), 0.02f, 7);
  bench::fill_normal(c.data(), c.size(), 0.02f, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(BenchCheckpoint, UnknownPresetAndBadDtypeAreClearErrors) {
  try {
    bench::find_preset("gpt5");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gpt5"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("tinyllama-1.1b"), std::string::npos);
  }
  bench::MakeOptions o;
  const ScratchDir scratch("bench_bad");
  o.out_dir = out_dir(scratch).string();
  o.dtype = DType::I64;
  EXPECT_THROW(bench::make_checkpoint(bench::find_preset("tiny-bert-test"), o), Error);
}
