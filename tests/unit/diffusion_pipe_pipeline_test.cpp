// The Stable Diffusion pipelines and `run` on the bundled tiny pipeline
// directories: seeded determinism, the result JSON, bad input -> clear errors.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

#include "core/error.h"
#include "pipelines/image_input.h"
#include "pipelines/stable_diffusion_generator.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "pipelines/stable_diffusion_tokenizer.h"
#include "scratch_dir.h"

namespace fs = std::filesystem;

namespace {

std::string sd_dir(const std::string& name) {
  return std::string(IA_FIXTURES_DIR) + "/diffusion/stable_diffusion/" + name;
}

struct CliRun {
  int code;
  std::string out;
};

CliRun run_cli(const std::string& args) {
  const std::string cmd = std::string(IA_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A copy of a bundled pipeline directory the test may break, in a scratch directory
// removed when the returned object goes.
ia::test::ScratchDir scratch_copy(const std::string& name, const std::string& tag) {
  ia::test::ScratchDir scratch("sd_" + tag);
  const fs::path& dst = scratch.path();
  fs::copy(sd_dir(name), dst, fs::copy_options::recursive);
  for (auto& e : fs::recursive_directory_iterator(dst))
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  return scratch;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// torch.randn((1, 4, 4, 4), generator=torch.Generator().manual_seed(3)) and
// torch.randn((7,), ...) (the blocked Box-Muller and the small-tensor double path).
TEST(DiffusionPipeline, GeneratorFollowsTorch) {
  ia::TorchLikeGenerator g(3);
  const ia::Tensor t = g.randn({1, 4, 4, 4});
  const float want[] = {-0.07664429396390915f, 0.35988152027130127f, -0.7820168137550354f, 0.07152773439884186f};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(t.f32()[i], want[i], 1e-5) << i;
  EXPECT_NEAR(t.f32()[63], 1.3777583837509155f, 1e-5);
  ia::TorchLikeGenerator g2(3);
  const ia::Tensor tail = g2.randn({1, 4, 5, 5});  // 100 values: the last block overlaps
  EXPECT_NEAR(tail.f32()[99], 0.4042048156261444f, 1e-5);
  ia::TorchLikeGenerator g3(3);
  const ia::Tensor small = g3.randn({7});
  const float want_small[] = {0.8032760620117188f, 0.17483338713645935f, 0.08897809684276581f, -0.6137180328369141f};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(small.f32()[i], want_small[i], 1e-5) << i;
}

TEST(DiffusionPipeline, PromptTokenizerPadsAndTruncates) {
  const auto tok = ia::PromptTokenizer::load(sd_dir("StableDiffusionPipeline") + "/tokenizer");
  EXPECT_EQ(tok.model_max_length(), 77);
  std::vector<int64_t> mask;
  const auto ids = tok.encode_padded("a cat", 77, &mask);
  ASSERT_EQ(ids.size(), 77u);
  EXPECT_EQ(ids[0], 667);  // <|startoftext|>
  EXPECT_EQ(ids.back(), 668);  // padded with <|endoftext|>
  EXPECT_EQ(mask[0], 1);
  EXPECT_EQ(mask.back(), 0);
  std::string longer;
  for (int i = 0; i < 100; ++i) longer += "cat ";
  const auto cut = tok.encode_padded(longer, 77);
  ASSERT_EQ(cut.size(), 77u);
  EXPECT_EQ(cut.back(), 668);  // truncated content, then the end token
  EXPECT_NE(cut[75], 668);
}

TEST(DiffusionPipeline, SeededRunsAreDeterministic) {
  auto pipe = ia::StableDiffusionPipeline::load(sd_dir("StableDiffusionPipeline"));
  ia::SdRequest req;
  req.prompt = "a red cat";
  req.num_inference_steps = 2;
  req.seed = 7;
  const ia::SdResult a = pipe->run(req);
  const ia::SdResult b = pipe->run(req);
  EXPECT_EQ(a.image_u8.rgb, b.image_u8.rgb);
  EXPECT_EQ(a.unet_calls, 3);  // PLMS: n + 1 evaluations
  req.seed = 8;
  const ia::SdResult c = pipe->run(req);
  EXPECT_NE(a.image_u8.rgb, c.image_u8.rgb);
  req.scheduler_class = "DPMSolverMultistepScheduler";
  const ia::SdResult d = pipe->run(req);
  EXPECT_EQ(d.scheduler, "DPMSolverMultistepScheduler");
  EXPECT_EQ(d.unet_calls, 2);
}

TEST(DiffusionPipeline, BadInputGivesClearErrors) {
  auto pipe = ia::StableDiffusionPipeline::load(sd_dir("StableDiffusionPipeline"));
  ia::SdRequest req;
  req.prompt = "x";
  req.num_inference_steps = 2;
  req.latents = ia::Tensor::zeros(ia::DType::F32, {1, 4, 8, 9});
  EXPECT_NE(error_of([&] { pipe->run(req); }).find("Unexpected latents shape"), std::string::npos);
  req.latents = ia::Tensor();
  req.height = 36;
  EXPECT_NE(error_of([&] { pipe->run(req); }).find("divisible by 8"), std::string::npos);
  req.height = 0;
  req.scheduler_class = "NoSuchScheduler";
  const std::string sched_err = error_of([&] { pipe->run(req); });
  EXPECT_NE(sched_err.find("NoSuchScheduler"), std::string::npos) << sched_err;
  EXPECT_NE(sched_err.find("EulerDiscreteScheduler"), std::string::npos) << sched_err;
  req.scheduler_class.clear();
  req.task = ia::SdTask::Inpainting;
  EXPECT_NE(error_of([&] { pipe->run(req); }).find("needs an image and a mask"), std::string::npos);
  req.task = ia::SdTask::ImageToImage;
  EXPECT_NE(error_of([&] { pipe->run(req); }).find("input image"), std::string::npos);

  const ia::test::ScratchDir broken_scratch = scratch_copy("StableDiffusionPipeline", "nounet");
  const fs::path& broken = broken_scratch.path();
  fs::remove_all(broken / "unet");
  const std::string missing = error_of([&] { ia::StableDiffusionPipeline::load(broken.string()); });
  EXPECT_NE(missing.find("unet"), std::string::npos) << missing;

  const ia::test::ScratchDir bad_sched_scratch = scratch_copy("StableDiffusionPipeline", "badsched");
  const fs::path& bad_sched = bad_sched_scratch.path();
  {
    std::ofstream f(bad_sched / "scheduler" / "scheduler_config.json");
    f << R"({"_class_name": "HeunDiscreteScheduler", "num_train_timesteps": 1000})";
  }
  const std::string unknown = error_of([&] { ia::StableDiffusionPipeline::load(bad_sched.string()); });
  EXPECT_NE(unknown.find("HeunDiscreteScheduler"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("scheduler_config.json"), std::string::npos) << unknown;
}

TEST(DiffusionPipeline, CliTextToImageJson) {
  const ia::test::ScratchDir scratch("sd_out");
  const fs::path out = scratch.path() / "out.png";
  const CliRun r = run_cli("run " + sd_dir("StableDiffusionPipeline") +
                           " --task text-to-image --input \"a red cat\" --negative-prompt blurry --steps 2 "
                           "--guidance 5 --seed 3 --json --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["success"].get<bool>());
  EXPECT_EQ(j["device"], "cpu");
  const auto& d = j["diffusion_output"];
  EXPECT_EQ(d["count"], 1);
  EXPECT_EQ(d["task_type"], "text-to-image");
  EXPECT_EQ(d["parameters"]["prompt"], "a red cat");
  EXPECT_EQ(d["parameters"]["negative_prompt"], "blurry");
  EXPECT_EQ(d["parameters"]["num_inference_steps"], 2);
  EXPECT_EQ(d["parameters"]["seed"], 3);
  EXPECT_EQ(d["parameters"]["height"], 32);
  const auto png = ia::decode_base64(d["images"][0].get<std::string>(), "image");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png[1], 'P');
  EXPECT_EQ(png[2], 'N');
  EXPECT_EQ(png[3], 'G');
  // --out wrote the same PNG; it decodes to the requested size.
  const ia::Image img = ia::load_image_input(out.string());
  EXPECT_EQ(img.width, 32);
  EXPECT_EQ(img.height, 32);
  EXPECT_EQ(fs::file_size(out), png.size());

  // image-to-image from that picture, inpainting needs an inpainting UNet.
  const CliRun i2i = run_cli("run " + sd_dir("StableDiffusionPipeline") + " --task image-to-image --image " +
                             out.string() + " --input \"a blue cat\" --steps 4 --strength 0.5 --json");
  ASSERT_EQ(i2i.code, 0) << i2i.out;
  const auto k = nlohmann::json::parse(i2i.out);
  EXPECT_EQ(k["diffusion_output"]["task_type"], "image-to-image");
  EXPECT_EQ(k["diffusion_output"]["unet_calls"], 3);  // strength 0.5 of 4 steps, PLMS repeats one
  const CliRun inp = run_cli("run " + sd_dir("StableDiffusionInpaintPipeline") + " --task inpainting --image " +
                             out.string() + " --mask " + out.string() + " --input cat --steps 2 --json");
  ASSERT_EQ(inp.code, 0) << inp.out;
  EXPECT_EQ(nlohmann::json::parse(inp.out)["diffusion_output"]["task_type"], "inpainting");
}

TEST(DiffusionPipeline, CliErrorsAreJson) {
  const CliRun r = run_cli("run " + sd_dir("StableDiffusionPipeline") + " --input x --scheduler Foo --json");
  EXPECT_EQ(r.code, 1);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["success"].get<bool>());
  EXPECT_NE(j["error"].get<std::string>().find("'Foo' is not supported"), std::string::npos);
  const CliRun m = run_cli("run " + sd_dir("StableDiffusionInpaintPipeline") + " --task inpainting --input x --json");
  EXPECT_EQ(m.code, 1);
  EXPECT_NE(nlohmann::json::parse(m.out)["error"].get<std::string>().find("--image"), std::string::npos);
}

// guidance_scale <= 1 turns classifier-free guidance off: one UNet row, no negative prompt.
TEST(DiffusionPipeline, NoGuidanceRunsOneRow) {
  auto pipe = ia::StableDiffusionPipeline::load(sd_dir("StableDiffusionPipeline"));
  ia::SdRequest req;
  req.prompt = "a cat";
  req.num_inference_steps = 2;
  req.guidance_scale = 1.0;
  ia::SdTrace trace;
  pipe->run(req, &trace);
  ASSERT_FALSE(trace.unet_input.empty());
  EXPECT_EQ(trace.unet_input[0].dim(0), 1);
  EXPECT_TRUE(trace.negative_ids.empty());
  req.guidance_scale = 3.0;
  ia::SdTrace cfg;
  pipe->run(req, &cfg);
  EXPECT_EQ(cfg.unet_input[0].dim(0), 2);
  EXPECT_EQ(cfg.negative_ids.size(), 77u);
}

// image-to-image with a sigma scheduler starts at t_start through set_begin_index.
TEST(DiffusionPipeline, ImageToImageStartsPartWay) {
  auto pipe = ia::StableDiffusionPipeline::load(sd_dir("StableDiffusionPipeline"));
  ia::SdRequest req;
  req.task = ia::SdTask::ImageToImage;
  req.prompt = "a cat";
  req.num_inference_steps = 6;
  req.strength = 0.5;
  req.scheduler_class = "EulerDiscreteScheduler";
  req.image.width = 40;  // rounded down to 40 (a multiple of 8)
  req.image.height = 35; // rounded down to 32
  req.image.rgb.assign(size_t(40 * 35 * 3), 128);
  ia::SdTrace trace;
  const ia::SdResult r = pipe->run(req, &trace);
  EXPECT_EQ(r.height, 32);
  EXPECT_EQ(r.width, 40);
  EXPECT_EQ(r.unet_calls, 3);  // int(6 * 0.5) steps
  ASSERT_EQ(trace.timesteps.numel(), 3);
  EXPECT_EQ(trace.timesteps.dtype(), ia::DType::F32);
  EXPECT_EQ(trace.preprocessed_image.shape(), (ia::Shape{1, 3, 32, 40}));
  EXPECT_NEAR(trace.preprocessed_image.f32()[0], 2.0f * 128 / 255 - 1, 1e-6);
  req.strength = 1.5;
  EXPECT_NE(error_of([&] { pipe->run(req); }).find("strength"), std::string::npos);
}

// Legacy (4-channel UNet) inpainting keeps the unmasked region from the image latents:
// with an all-black mask nothing is repainted, so the prompt cannot change the result.
TEST(DiffusionPipeline, LegacyInpaintingKeepsUnmaskedLatents) {
  auto pipe = ia::StableDiffusionPipeline::load(sd_dir("StableDiffusionPipeline"));
  ia::SdRequest req;
  req.task = ia::SdTask::Inpainting;
  req.num_inference_steps = 2;
  req.seed = 11;
  req.image.width = req.image.height = 32;
  req.image.rgb.resize(32 * 32 * 3);
  for (size_t i = 0; i < req.image.rgb.size(); ++i) req.image.rgb[i] = uint8_t(i * 7);
  req.mask.width = req.mask.height = 32;
  req.mask.rgb.assign(32 * 32 * 3, 0);
  req.prompt = "a cat";
  const ia::SdResult a = pipe->run(req);
  req.prompt = "a dog on the moon";
  const ia::SdResult b = pipe->run(req);
  EXPECT_EQ(a.image_u8.rgb, b.image_u8.rgb);
  req.mask.rgb.assign(32 * 32 * 3, 255);  // repaint everything: the prompt matters again
  const ia::SdResult c = pipe->run(req);
  req.prompt = "a cat";
  const ia::SdResult d = pipe->run(req);
  EXPECT_NE(c.image_u8.rgb, d.image_u8.rgb);
}
