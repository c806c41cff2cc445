// The ViT make-checkpoint preset loads as a vision model and `bench` reports images/s.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "bench/bench_runner.h"
#include "bench/checkpoint_maker.h"
#include "bench/presets.h"
#include "templates/model.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

TEST(VisionBench, TinyVitPresetRunsAndReportsImagesPerSecond) {
  const ia::test::ScratchDir dir_scratch("vision_bench");
  fs::path dir = dir_scratch.path() / "out";
  bench::MakeOptions mo;
  mo.out_dir = dir.string();
  bench::make_checkpoint(bench::find_preset("tiny-vit-test"), mo);
  auto m = load_model(dir.string());
  EXPECT_EQ(m->family(), Family::Vision);
  TensorMap out = m->forward({{"pixel_values", Tensor::zeros(DType::F32, {2, 3, 32, 32})}});
  EXPECT_EQ(out.at("logits").shape(), (Shape{2, 10}));
  bench::BenchOptions o;
  o.batch = 2;
  o.threads = 1;
  nlohmann::json r = bench::run_bench(dir.string(), o);
  EXPECT_EQ(r["family"], "vision");
  EXPECT_EQ(r["batch"], 2);
  EXPECT_GT(r["images_per_s"].get<double>(), 0.0);
  EXPECT_NE(bench::format_report(r).find("images/s"), std::string::npos);
}

TEST(VisionBench, VitBasePresetHasTheRealShapes) {
  bench::Preset p = bench::find_preset("vit-base-16");
  EXPECT_EQ(p.config["hidden_size"], 768);
  EXPECT_EQ(p.config["patch_size"], 16);
  EXPECT_EQ(p.config["image_size"], 224);
  int64_t params = 0;
  for (const auto& t : p.tensors) params += shape_numel(t.shape);
  EXPECT_NEAR(double(params) / 1e6, 86.6, 0.5);  // google/vit-base-patch16-224: 86.6M
}
