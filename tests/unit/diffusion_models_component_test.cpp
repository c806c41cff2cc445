// DiffusionUNet / AutoencoderKL as library objects: loading the bundled fixtures,
// timestep forms, the verify runner, and clear errors for bad configs and inputs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/safetensors.h"
#include "templates/diffusion/autoencoder_kl.h"
#include "templates/diffusion/unet_2d_condition.h"
#include "verify/diffusers_component_cases.h"
#include "scratch_dir.h"

namespace ia::diffusion {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kRoot = fs::path(IA_FIXTURES_DIR) / "diffusion";
const fs::path kSd1 = kRoot / "unet_2d_condition" / "UNet2DConditionModel-sd1";
const fs::path kVae = kRoot / "autoencoder_kl" / "AutoencoderKL";

// A copy of a component directory whose config.json is edited by `edit` (weights linked),
// in a scratch directory removed when the returned object goes.
ia::test::ScratchDir edited_copy(const fs::path& src, const std::string& tag, const std::function<void(json&)>& edit) {
  ia::test::ScratchDir scratch("diffusion_models_" + tag);
  const fs::path& d = scratch.path();
  fs::create_symlink(fs::absolute(src / "diffusion_pytorch_model.safetensors"), d / "diffusion_pytorch_model.safetensors");
  json cfg = json::parse(std::ifstream(src / "config.json"));
  edit(cfg);
  std::ofstream(d / "config.json") << cfg.dump(2);
  return scratch;
}

std::string load_error(const fs::path& dir) {
  try {
    DiffusionUNet::load(dir.string());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

Tensor ref_tensor(const fs::path& dir, const std::string& name) {
  return SafetensorsFile::open((dir / "reference.safetensors").string())->tensor(name).to_f32();
}

TEST(DiffusionUNetLoad, ReadsLegacyHeadCountsAndBlockLayout) {
  auto unet = DiffusionUNet::load(kSd1.string());
  const auto& c = unet->config();
  EXPECT_EQ(c.block_out_channels, std::vector<int64_t>({16, 32}));
  EXPECT_EQ(c.num_attention_heads, std::vector<int64_t>({4, 4}));  // attention_head_dim = heads
  EXPECT_EQ(c.cross_attention_dim, std::vector<int64_t>({24, 24}));
  EXPECT_EQ(c.time_embed_dim, 64);
  EXPECT_EQ(c.mid_block_type, "UNetMidBlock2DCrossAttn");
}

TEST(DiffusionUNetForward, ScalarTimestepBroadcastsOverTheBatch) {
  auto unet = DiffusionUNet::load(kSd1.string());
  const Tensor sample = ref_tensor(kSd1, "forward.in.sample");
  const Tensor ehs = ref_tensor(kSd1, "forward.in.encoder_hidden_states");
  const Tensor a = unet->forward(sample, 321.0, ehs);
  const Tensor b = unet->forward(sample, Tensor::from_vector_i64({321, 321}, {2}), ehs);
  const Tensor c = unet->forward(sample, Tensor::from_vector({321.f}, {1}), ehs);
  ASSERT_EQ(a.shape(), sample.shape());
  for (int64_t i = 0; i < a.numel(); ++i) {
    ASSERT_EQ(a.f32()[i], b.f32()[i]);
    ASSERT_EQ(a.f32()[i], c.f32()[i]);
  }
  // Per-row timesteps differ from the broadcast one: the rows are conditioned separately.
  const Tensor d = unet->forward(sample, Tensor::from_vector_i64({321, 5}, {2}), ehs);
  const int64_t half = d.numel() / 2;
  EXPECT_EQ(d.f32()[0], a.f32()[0]);
  EXPECT_NE(d.f32()[half], a.f32()[half]);
}

TEST(DiffusionUNetForward, BadInputShapesAreClearErrors) {
  auto unet = DiffusionUNet::load(kSd1.string());
  const Tensor sample = ref_tensor(kSd1, "forward.in.sample");
  const Tensor ehs = ref_tensor(kSd1, "forward.in.encoder_hidden_states");
  const Tensor t = Tensor::from_vector_i64({1, 2}, {2});
  auto msg = [&](const Tensor& s, const Tensor& tt, const Tensor& e) {
    try {
      unet->forward(s, tt, e);
    } catch (const Error& err) {
      return std::string(err.what());
    }
    return std::string();
  };
  EXPECT_NE(msg(Tensor::zeros(DType::F32, {2, 3, 8, 8}), t, ehs).find("sample"), std::string::npos);
  EXPECT_NE(msg(sample, Tensor::from_vector_i64({1, 2, 3}, {3}), ehs).find("timestep"), std::string::npos);
  EXPECT_NE(msg(sample, t, Tensor::zeros(DType::F32, {2, 7, 20})).find("encoder_hidden_states"), std::string::npos);
  EXPECT_NE(msg(sample, t, Tensor::zeros(DType::F32, {1, 7, 24})).find("encoder_hidden_states"), std::string::npos);
  // timestep_cond on a model without cond_proj (time_cond_proj_dim null).
  try {
    unet->forward(sample, t, ehs, nullptr, Tensor::zeros(DType::F32, {2, 8}));
    ADD_FAILURE() << "timestep_cond accepted without cond_proj";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("time_cond_proj_dim"), std::string::npos) << err.what();
  }
}

TEST(DiffusionUNetLoad, ConfigErrorsNameFileAndField) {
  const ia::test::ScratchDir wrong_class_scratch = edited_copy(kSd1, "cls", [](json& j) { j["_class_name"] = "UNet2DModel"; });
  const fs::path wrong_class = wrong_class_scratch.path();
  std::string e = load_error(wrong_class);
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
  EXPECT_NE(e.find("_class_name"), std::string::npos) << e;

  const ia::test::ScratchDir short_list_scratch = edited_copy(kSd1, "boc", [](json& j) { j["block_out_channels"] = {16}; });
  const fs::path short_list = short_list_scratch.path();
  e = load_error(short_list);
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
  EXPECT_NE(e.find("block_out_channels"), std::string::npos) << e;

  const ia::test::ScratchDir heads_scratch = edited_copy(kSd1, "heads", [](json& j) { j["attention_head_dim"] = {4, 4, 4}; });
  const fs::path heads = heads_scratch.path();
  e = load_error(heads);
  EXPECT_NE(e.find("attention_head_dim"), std::string::npos) << e;

  const ia::test::ScratchDir zero_heads_scratch = edited_copy(kSd1, "zeroheads", [](json& j) { j["attention_head_dim"] = 0; });
  const fs::path zero_heads = zero_heads_scratch.path();
  e = load_error(zero_heads);
  EXPECT_NE(e.find("attention_head_dim"), std::string::npos) << e;

  const ia::test::ScratchDir bad_type_scratch = edited_copy(kSd1, "type", [](json& j) { j["layers_per_block"] = "two"; });
  const fs::path bad_type = bad_type_scratch.path();
  e = load_error(bad_type);
  EXPECT_NE(e.find("layers_per_block"), std::string::npos) << e;

  // A config that disagrees with the weights: the error names the tensor and both shapes.
  const ia::test::ScratchDir dims_scratch = edited_copy(kSd1, "dims", [](json& j) { j["cross_attention_dim"] = 20; });
  const fs::path dims = dims_scratch.path();
  e = load_error(dims);
  EXPECT_NE(e.find("attn2.to_k.weight"), std::string::npos) << e;

  const ia::test::ScratchDir tet_scratch = edited_copy(kSd1, "tet", [](json& j) { j["time_embedding_type"] = "learned"; });
  const fs::path tet = tet_scratch.path();
  e = load_error(tet);
  EXPECT_NE(e.find("time_embedding_type"), std::string::npos) << e;

  const ia::test::ScratchDir cls_emb_scratch = edited_copy(kSd1, "classemb", [](json& j) { j["class_embed_type"] = "timestep"; });
  const fs::path cls_emb = cls_emb_scratch.path();
  EXPECT_THROW(DiffusionUNet::load(cls_emb.string()), Unsupported);
  const ia::test::ScratchDir down_scratch = edited_copy(kSd1, "down", [](json& j) { j["down_block_types"][1] = "AttnDownBlock2D"; });
  const fs::path down = down_scratch.path();
  EXPECT_THROW(DiffusionUNet::load(down.string()), Unsupported);

  const ia::test::ScratchDir no_weights_scratch("diffusion_models_nowt");
  const fs::path& no_weights = no_weights_scratch.path();
  fs::copy_file(kSd1 / "config.json", no_weights / "config.json");
  e = load_error(no_weights);
  EXPECT_NE(e.find("diffusion_pytorch_model.safetensors"), std::string::npos) << e;
}

TEST(DiffusionVae, ExposesScalingAndChecksShapes) {
  auto vae = AutoencoderKL::load(kVae.string());
  EXPECT_DOUBLE_EQ(vae->scaling_factor(), 0.18215);
  EXPECT_EQ(vae->vae_scale_factor(), 4);
  EXPECT_THROW(vae->decode(Tensor::zeros(DType::F32, {1, 3, 4, 4})), Error);
  EXPECT_THROW(vae->encode(Tensor::zeros(DType::F32, {1, 4, 8, 8})), Error);
  const LatentDistribution d = vae->encode(ref_tensor(kVae, "encode.in.image"));
  EXPECT_EQ(d.mean.shape(), Shape({2, 4, 8, 8}));
  EXPECT_THROW(d.sample(Tensor::zeros(DType::F32, {2, 4, 8, 7})), Error);
  // Zero noise samples the mean; decode(latents) has the image size.
  const Tensor z = d.sample(Tensor::zeros(DType::F32, {2, 4, 8, 8}));
  for (int64_t i = 0; i < z.numel(); ++i) ASSERT_EQ(z.f32()[i], d.mean.f32()[i]);
  EXPECT_EQ(vae->decode(z).shape(), Shape({2, 3, 32, 32}));
}

TEST(DiffusionVerifyRunner, RecognisesAndPassesBundledComponents) {
  int dirs = 0;
  for (const auto& group : {"unet_2d_condition", "autoencoder_kl"})
    for (const auto& d : fs::directory_iterator(kRoot / group)) {
      ASSERT_TRUE(is_diffusers_component_fixture(d.path().string())) << d.path();
      ++dirs;
    }
  EXPECT_GE(dirs, 8);
  EXPECT_FALSE(is_diffusers_component_fixture((kRoot / "oracle").string()));
  const auto results = verify_diffusers_component_fixture(kSd1.string(), "sd1", VerifyOptions{});
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) EXPECT_EQ(r.status, CaseStatus::Pass) << r.case_name << ": " << r.detail;
}

}  // namespace
}  // namespace ia::diffusion
