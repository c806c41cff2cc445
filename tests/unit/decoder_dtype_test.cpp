// Half-precision checkpoints: a model stored in BF16 / F16 gives the same outputs
// as the F32 model holding the same (rounded) values — exercises the converted
// embedding lookup, the BF16/F16 GEMV (decode) and GEMM (prefill) paths and the
// fused q/k/v gathers.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "formats/checkpoint.h"
#include "formats/safetensors.h"
#include "templates/decoder_only/decoder_model.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

// Writes `fixture`'s checkpoint with every 2-D tensor stored as `dt` (half) and, beside
// it, the same values widened back to F32, both under `root`; returns {half_dir, f32_dir}.
std::pair<fs::path, fs::path> half_copies(const ia::test::ScratchDir& root, const std::string& fixture, DType dt) {
  fs::path src = fs::path(IA_FIXTURES_DIR) / "models" / fixture;
  fs::path hdir = root.path() / "half", fdir = root.path() / "f32";
  for (const auto& d : {hdir, fdir}) {
    fs::create_directories(d);
    fs::copy_file(src / "config.json", d / "config.json", fs::copy_options::overwrite_existing);
  }
  auto ck = Checkpoint::open_dir(src.string());
  std::vector<std::pair<std::string, Tensor>> half, wide;
  for (const auto& name : ck->names()) {
    Tensor t = ck->get(name).to_f32();
    if (t.rank() != 2) {
      half.push_back({name, t});
      wide.push_back({name, t});
      continue;
    }
    Tensor h = Tensor::empty(dt, t.shape());
    auto* p = static_cast<uint16_t*>(h.raw());
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = dt == DType::BF16 ? f32_to_bf16(t.f32()[i]) : f32_to_f16(t.f32()[i]);
    half.push_back({name, h});
    wide.push_back({name, h.to_f32()});
  }
  write_safetensors((hdir / "model.safetensors").string(), half);
  write_safetensors((fdir / "model.safetensors").string(), wide);
  return {hdir, fdir};
}

}  // namespace

TEST(DecoderDtype, HalfCheckpointsMatchWidenedF32) {
  const std::vector<std::pair<std::string, DType>> cases = {
      {"llama/LlamaForCausalLM-llama3rope-tied", DType::BF16},
      {"phi3/Phi3ForCausalLM", DType::F16},
      {"falcon/FalconForCausalLM", DType::BF16},
      {"gpt_neox/GPTNeoXForCausalLM", DType::F16}};
  for (const auto& [fixture, dt] : cases) {
    const ia::test::ScratchDir root("decoder_dtype");
    auto [hdir, fdir] = half_copies(root, fixture, dt);
    auto mh = load_model(hdir.string());
    auto mf = load_model(fdir.string());
    // 12 tokens per row: prefill takes the GEMM path; decode steps the GEMV path.
    std::vector<int64_t> ids;
    for (int i = 0; i < 24; ++i) ids.push_back((5 * i + 1) % 128);
    TensorMap in{{"input_ids", Tensor::from_vector_i64(ids, {2, 12})}};
    Tensor a = mh->forward(in).at("logits"), b = mf->forward(in).at("logits");
    double worst = 0;
    for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, double(std::fabs(a.f32()[i] - b.f32()[i])));
    EXPECT_LT(worst, 1e-4) << fixture;
    GenerateOptions o;
    o.max_new_tokens = 4;
    o.eos_stops = false;
    TensorMap ga = mh->generate(in, o), gb = mf->generate(in, o);
    worst = 0;
    for (int64_t i = 0; i < ga.at("step_logits").numel(); ++i)
      worst = std::max(worst, double(std::fabs(ga.at("step_logits").f32()[i] - gb.at("step_logits").f32()[i])));
    EXPECT_LT(worst, 1e-4) << fixture;
  }
}
