// wav2vec2: padded batches with attention_mask, config options and input errors.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "speech_test_util.h"
#include "templates/speech/wav2vec2_model.h"

using namespace ia;
using namespace speech_test;

namespace {

Tensor audio(int64_t B, int64_t S, double phase) {
  Tensor t = Tensor::f32({B, S});
  for (int64_t i = 0; i < B * S; ++i) t.f32()[i] = float(0.5 * std::sin(phase + 0.013 * double(i * i % 9973)));
  return t;
}

}  // namespace

TEST(Wav2Vec2, PaddedRowMatchesItsUnpaddedRun) {
  // feat_extract_norm "layer": a padded row's valid frames equal the row run alone.
  auto m = load_model(fixture("wav2vec2/Wav2Vec2ForCTC-stable-layer-norm"));
  const int64_t S = 400, short_len = 300;
  Tensor batch = audio(2, S, 0.3);
  Tensor mask = Tensor::zeros(DType::I64, {2, S});
  for (int64_t s = 0; s < S; ++s) mask.i64()[s] = 1;
  for (int64_t s = 0; s < short_len; ++s) mask.i64()[S + s] = 1;
  for (int64_t s = short_len; s < S; ++s) batch.f32()[S + s] = 0.f;
  auto padded = m->forward({{"input_values", batch}, {"attention_mask", mask}});
  Tensor alone = Tensor::f32({1, short_len});
  for (int64_t s = 0; s < short_len; ++s) alone.f32()[s] = batch.f32()[S + s];
  auto single = m->forward({{"input_values", alone}});
  const Tensor& a = padded.at("logits");
  const Tensor& b = single.at("logits");
  const int64_t T = a.dim(1), Ts = b.dim(1), V = a.dim(2);
  ASSERT_EQ(T, 19);
  ASSERT_EQ(Ts, 14);  // (300 - 10) / 5 + 1 = 59 -> 29 -> 14
  for (int64_t t = 0; t < Ts; ++t)
    for (int64_t v = 0; v < V; ++v)
      ASSERT_NEAR(a.f32()[(T + t) * V + v], b.f32()[t * V + v], 2e-4) << "frame " << t << " token " << v;
  // The full-length row is unaffected by the other row's padding.
  Tensor first = Tensor::f32({1, S});
  for (int64_t s = 0; s < S; ++s) first.f32()[s] = batch.f32()[s];
  auto one = m->forward({{"input_values", first}});
  for (int64_t i = 0; i < T * V; ++i) ASSERT_NEAR(a.f32()[i], one.at("logits").f32()[i], 2e-4);
}

TEST(Wav2Vec2, ConfigOptions) {
  const std::string src = fixture("wav2vec2/Wav2Vec2ForCTC");
  EXPECT_THROW(load_model(scratch_copy(src, "adapter", [](nlohmann::json& c) { c["add_adapter"] = true; }).str()), Unsupported);
  EXPECT_THROW(load_model(scratch_copy(src, "norm", [](nlohmann::json& c) { c["feat_extract_norm"] = "batch"; }).str()), Error);
  EXPECT_THROW(load_model(scratch_copy(src, "convs", [](nlohmann::json& c) { c["conv_stride"] = {5, 2}; }).str()), Error);
  EXPECT_THROW(load_model(scratch_copy(src, "pretrain", [](nlohmann::json& c) {
                 c["architectures"] = {"Wav2Vec2ForPreTraining"};
               }).str()),
               Unsupported);
  // apply_spec_augment / mask_time_prob only act in training: identical outputs.
  auto m = load_model(src);
  auto n = load_model(scratch_copy(src, "spec", [](nlohmann::json& c) {
    c["apply_spec_augment"] = false;
    c["mask_time_prob"] = 0.5;
  }).str());
  Tensor x = audio(1, 400, 1.0);
  auto a = m->forward({{"input_values", x}}), b = n->forward({{"input_values", x}});
  for (int64_t i = 0; i < a.at("logits").numel(); ++i) ASSERT_EQ(a.at("logits").f32()[i], b.at("logits").f32()[i]);
  // Base model: no head outputs.
  auto base = load_model(scratch_copy(src, "base", [](nlohmann::json& c) { c["architectures"] = {"Wav2Vec2Model"}; }).str());
  auto h = base->forward({{"input_values", x}});
  EXPECT_EQ(h.count("logits"), 0u);
  EXPECT_EQ(h.at("last_hidden_state").shape(), (Shape{1, 19, 32}));
}

TEST(Wav2Vec2, InputErrors) {
  auto m = load_model(fixture("wav2vec2/Wav2Vec2ForCTC"));
  EXPECT_THROW(m->forward({}), Error);
  EXPECT_THROW(m->forward({{"input_values", Tensor::f32({2, 3, 4})}}), Error);
  EXPECT_THROW(m->forward({{"input_values", audio(1, 20, 0.0)}}), Error);  // shorter than the conv stack
  Tensor x = audio(1, 400, 0.0);
  EXPECT_THROW(m->forward({{"input_values", x}, {"attention_mask", Tensor::zeros(DType::I64, {1, 300})}}), Error);
  EXPECT_THROW(m->forward({{"input_values", x}, {"attention_mask", Tensor::zeros(DType::I64, {1, 400})}}), Error);
}
