// Config variants the bundled fixtures do not exercise (same weights, edited
// config.json): each must load, and cached greedy decoding must agree with the
// uncached forward pass, and a left-padded row with the row run alone.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "templates/decoder_only/decoder_model.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

struct Variant {
  const char* fixture;
  const char* name;
  std::function<void(nlohmann::json&)> edit;
};

// Loads the variant's edited copy of its fixture, written into `scratch`.
std::unique_ptr<DecoderModel> load_variant(const Variant& v, const ia::test::ScratchDir& scratch) {
  fs::path src = fs::path(IA_FIXTURES_DIR) / "models" / v.fixture;
  const fs::path& dir = scratch.path();
  fs::copy_file(src / "model.safetensors", dir / "model.safetensors", fs::copy_options::overwrite_existing);
  nlohmann::json j;
  std::ifstream(src / "config.json") >> j;
  v.edit(j);
  std::ofstream(dir / "config.json") << j.dump(2);
  ModelContext ctx = ModelContext::open(dir.string());
  ctx.checkpoint = Checkpoint::open_dir(dir.string());
  return std::make_unique<DecoderModel>(ctx);
}

double max_diff(const float* a, const float* b, int64_t n) {
  double w = 0;
  for (int64_t i = 0; i < n; ++i) w = std::max(w, double(std::fabs(a[i] - b[i])));
  return w;
}

const std::vector<Variant>& variants() {
  static const std::vector<Variant> v = {
      {"falcon/FalconForCausalLM", "falcon_alibi", [](auto& j) { j["alibi"] = true; }},
      {"gpt2/GPT2LMHeadModel", "gpt2_inv_layer", [](auto& j) { j["scale_attn_by_inverse_layer_idx"] = true; j["reorder_and_upcast_attn"] = true; }},
      {"bloom/BloomForCausalLM", "bloom_post_ln_residual", [](auto& j) { j["apply_residual_connection_post_layernorm"] = true; }},
      {"gpt_neox/GPTNeoXForCausalLM", "neox_sequential", [](auto& j) { j["use_parallel_residual"] = false; j["rotary_pct"] = 1.0; }},
      {"llama/LlamaForCausalLM", "llama_linear", [](auto& j) { j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}}; }},
      {"llama/LlamaForCausalLM", "llama_yarn", [](auto& j) { j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}}; }},
      {"llama/LlamaForCausalLM", "llama_longrope", [](auto& j) {
         j["rope_scaling"] = {{"rope_type", "longrope"}, {"factor", 2.0}, {"short_factor", {1.0, 1.1, 1.2, 1.3}},
                              {"long_factor", {2.0, 2.5, 3.0, 3.5}}};
       }},
      {"phi/PhiForCausalLM", "phi_linear", [](auto& j) { j["rope_scaling"] = {{"type", "linear"}, {"factor", 3.0}}; }},
      {"opt/OPTForCausalLM", "opt_post_norm", [](auto& j) { j["do_layer_norm_before"] = false; }},
      {"gpt_neo/GPTNeoForCausalLM", "neo_window2", [](auto& j) { j["window_size"] = 2; j["attention_types"] = {{{"local"}, 2}}; }},
      {"mistral/MistralForCausalLM", "mistral_no_window", [](auto& j) { j["sliding_window"] = nullptr; }},
      {"gemma2/Gemma2ForCausalLM", "gemma2_no_softcap", [](auto& j) {
         j["attn_logit_softcapping"] = nullptr;
         j["final_logit_softcapping"] = nullptr;
         j["sliding_window"] = 64;  // wider than any sequence here: the HybridCache ring never rolls
       }},
  };
  return v;
}

}  // namespace

TEST(DecoderVariants, CachedEqualsUncachedAndPaddingIsTransparent) {
  for (const auto& v : variants()) {
    const ia::test::ScratchDir scratch(std::string("decoder_var_") + v.name);
    auto m = load_variant(v, scratch);
    const int64_t V = m->vocab(), P = 5, N = 6;
    std::vector<int64_t> prompt = {7, 19, 31, 43, 55};
    GenerateOptions o;
    o.max_new_tokens = N;
    o.eos_stops = false;
    TensorMap g = m->generate({{"input_ids", Tensor::from_vector_i64(prompt, {1, P})}}, o);
    TensorMap f = m->forward({{"input_ids", g.at("sequences")}});
    double worst = 0;
    for (int64_t s = 0; s < N; ++s)
      worst = std::max(worst, max_diff(g.at("step_logits").f32() + s * V, f.at("logits").f32() + (P - 1 + s) * V, V));
    EXPECT_LT(worst, 2e-4) << v.name;

    // Same prompt behind two pads in a batch of two.
    std::vector<int64_t> ids = {3, 4, 5, 6, 8, 9, 0, 0}, mask(14, 1);
    ids.resize(7);
    ids.insert(ids.end(), {0, 0});
    ids.insert(ids.end(), prompt.begin(), prompt.end());
    mask[7] = mask[8] = 0;
    TensorMap gb = m->generate({{"input_ids", Tensor::from_vector_i64(ids, {2, 7})},
                                {"attention_mask", Tensor::from_vector_i64(mask, {2, 7})}},
                               o);
    EXPECT_LT(max_diff(gb.at("step_logits").f32() + N * V, g.at("step_logits").f32(), N * V), 2e-4) << v.name;
    for (int64_t i = 0; i < N; ++i)
      EXPECT_EQ(gb.at("sequences").i64()[(7 + N) + 7 + i], g.at("sequences").i64()[P + i]) << v.name;
    auto d = m->describe();
    EXPECT_EQ(d["model_type"], m->model_type()) << v.name;
  }
}
