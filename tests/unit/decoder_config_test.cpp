// Bad configs and inputs fail with an ia::Error naming the file and field.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/decoder_only/decoder_model.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

// A copy of a fixture checkpoint whose config.json is edited by `edit`.
class EditedCheckpoint {
 public:
  EditedCheckpoint(const std::string& fixture, const std::function<void(nlohmann::json&)>& edit)
      : scratch_("decoder_cfg"), dir_(scratch_.path()) {
    fs::path src = fs::path(IA_FIXTURES_DIR) / "models" / fixture;
    fs::copy_file(src / "model.safetensors", dir_ / "model.safetensors", fs::copy_options::overwrite_existing);
    nlohmann::json j;
    std::ifstream(src / "config.json") >> j;
    edit(j);
    std::ofstream(dir_ / "config.json") << j.dump(2);
  }
  std::string dir() const { return dir_.string(); }

 private:
  ia::test::ScratchDir scratch_;  // removed with the object
  fs::path dir_;
};

std::string load_error(const std::string& fixture, const std::function<void(nlohmann::json&)>& edit) {
  EditedCheckpoint ck(fixture, edit);
  try {
    load_model(ck.dir());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DecoderConfig, UnknownRopeScalingType) {
  std::string e = load_error("llama/LlamaForCausalLM", [](auto& j) { j["rope_scaling"] = {{"rope_type", "mystery"}, {"factor", 2.0}}; });
  EXPECT_NE(e.find("mystery"), std::string::npos) << e;
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
}

TEST(DecoderConfig, HeadsMustDivideHiddenSize) {
  std::string e = load_error("llama/LlamaForCausalLM", [](auto& j) { j["num_attention_heads"] = 6; });
  EXPECT_NE(e.find("not divisible"), std::string::npos) << e;
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
  e = load_error("llama/LlamaForCausalLM", [](auto& j) { j["num_key_value_heads"] = 3; });
  EXPECT_NE(e.find("num_key_value_heads"), std::string::npos) << e;
}

TEST(DecoderConfig, MissingVocabSize) {
  std::string e = load_error("gpt2/GPT2LMHeadModel", [](auto& j) { j.erase("vocab_size"); });
  EXPECT_NE(e.find("vocab_size"), std::string::npos) << e;
}

TEST(DecoderConfig, ShapeMismatchNamesTheTensor) {
  std::string e = load_error("mistral/MistralForCausalLM", [](auto& j) { j["intermediate_size"] = 48; });
  EXPECT_NE(e.find("mlp"), std::string::npos) << e;
  EXPECT_NE(e.find("shape"), std::string::npos) << e;
}

TEST(DecoderConfig, BadActivationName) {
  std::string e = load_error("phi/PhiForCausalLM", [](auto& j) { j["hidden_act"] = "wiggle"; });
  EXPECT_NE(e.find("wiggle"), std::string::npos) << e;
}

TEST(DecoderConfig, InputIdOutOfRangeIsAnError) {
  auto m = load_model((fs::path(IA_FIXTURES_DIR) / "models/qwen2/Qwen2ForCausalLM").string());
  TensorMap in{{"input_ids", Tensor::from_vector_i64({1, 2, 999}, {1, 3})}};
  try {
    m->forward(in);
    FAIL() << "out-of-range id accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("999"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m->forward({{"attention_mask", Tensor::from_vector_i64({1}, {1, 1})}}), Error);
  EXPECT_THROW(m->forward({{"input_ids", Tensor::from_vector_i64({1, 2}, {1, 2})},
                           {"attention_mask", Tensor::from_vector_i64({1, 1, 1}, {1, 3})}}),
               Error);
}

TEST(DecoderConfig, PositionBeyondLearnedTableIsAnError) {
  auto m = load_model((fs::path(IA_FIXTURES_DIR) / "models/gpt2/GPT2LMHeadModel").string());
  TensorMap in{{"input_ids", Tensor::from_vector_i64({1, 2}, {1, 2})},
               {"position_ids", Tensor::from_vector_i64({0, 500}, {1, 2})}};
  EXPECT_THROW(m->forward(in), Error);
}

// Gemma-2 without HybridCache (cache_implementation null): 4.44's decode masks never
// carry the sliding window, so decode steps attend to every cached key.
TEST(DecoderConfig, Gemma2DynamicCacheDecodesWithoutWindow) {
  EditedCheckpoint ck("gemma2/Gemma2ForCausalLM", [](auto& j) { j["cache_implementation"] = nullptr; });
  ModelContext ctx = ModelContext::open(ck.dir());
  ctx.checkpoint = Checkpoint::open_dir(ck.dir());
  DecoderModel m(ctx);
  EXPECT_FALSE(m.params().hybrid_cache);
  EXPECT_TRUE(m.params().decode_ignores_window);
  const int64_t V = m.vocab(), P = 6;
  GenerateOptions o;
  o.max_new_tokens = 3;
  o.eos_stops = false;
  TensorMap g = m.generate({{"input_ids", Tensor::from_vector_i64({5, 9, 13, 17, 21, 25}, {1, P})}}, o);
  TensorMap f = m.forward({{"input_ids", g.at("sequences")}});
  auto diff = [&](int64_t s) {
    double w = 0;
    for (int64_t v = 0; v < V; ++v)
      w = std::max(w, double(std::fabs(g.at("step_logits").f32()[s * V + v] - f.at("logits").f32()[(P - 1 + s) * V + v])));
    return w;
  };
  EXPECT_LT(diff(0), 1e-4);  // prefill keeps the window
  EXPECT_GT(diff(1), 1e-3);  // decode attends past the window
}
