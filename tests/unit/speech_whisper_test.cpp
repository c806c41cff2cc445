// Whisper: prompt (init tokens) rules of WhisperGenerationMixin 4.44.2, the
// short-form post-processing, generation options and input errors.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "speech_test_util.h"
#include "templates/speech/whisper_model.h"

using namespace ia;
using namespace speech_test;

namespace {

WhisperPromptConfig multilingual() {
  WhisperPromptConfig c;
  c.decoder_start = 51;
  c.pad = 50;
  c.vocab = 64;
  c.max_target_positions = 32;
  c.no_timestamps_id = 56;
  c.lang_to_id = std::map<std::string, int64_t>{{"<|en|>", 52}, {"<|fr|>", 53}};
  c.task_to_id = std::map<std::string, int64_t>{{"translate", 54}, {"transcribe", 55}};
  c.is_multilingual = true;
  return c;
}

const std::function<std::vector<int64_t>()> kNoDetect = [] () -> std::vector<int64_t> {
  ADD_FAILURE() << "language detection must not run";
  return {};
};

using Rows = std::vector<std::vector<int64_t>>;

}  // namespace

TEST(WhisperPrompt, LanguageAndTask) {
  auto c = multilingual();
  EXPECT_EQ(whisper_init_tokens(c, {"en"}, "transcribe", 1, kNoDetect), (Rows{{51, 52, 55, 56}}));
  EXPECT_EQ(whisper_init_tokens(c, {"french"}, "translate", 1, kNoDetect), (Rows{{51, 53, 54, 56}}));
  EXPECT_EQ(whisper_init_tokens(c, {"<|fr|>"}, "", 1, kNoDetect), (Rows{{51, 53, 55, 56}}));  // task defaults to transcribe
  EXPECT_EQ(whisper_init_tokens(c, {"EN", "fr"}, "", 2, kNoDetect), (Rows{{51, 52, 55, 56}, {51, 53, 55, 56}}));
  EXPECT_EQ(whisper_init_tokens(c, {"en"}, "", 3, kNoDetect).size(), 3u);
  EXPECT_THROW(whisper_init_tokens(c, {"german"}, "", 1, kNoDetect), Error);   // not in lang_to_id
  EXPECT_THROW(whisper_init_tokens(c, {"klingon"}, "", 1, kNoDetect), Error);  // no such language
  EXPECT_THROW(whisper_init_tokens(c, {"en"}, "summarize", 1, kNoDetect), Error);
  EXPECT_THROW(whisper_init_tokens(c, {"en", "fr"}, "", 3, kNoDetect), Error);  // one per row or one
}

TEST(WhisperPrompt, DetectsLanguageWhenNoneGiven) {
  auto c = multilingual();
  int calls = 0;
  auto detect = [&] {
    ++calls;
    return std::vector<int64_t>{53, 52};
  };
  EXPECT_EQ(whisper_init_tokens(c, {}, "", 2, detect), (Rows{{51, 53, 56}, {51, 52, 56}}));
  EXPECT_EQ(whisper_init_tokens(c, {}, "translate", 2, detect), (Rows{{51, 53, 54, 56}, {51, 52, 54, 56}}));
  EXPECT_EQ(calls, 2);
}

TEST(WhisperPrompt, ForcedDecoderIds) {
  auto c = multilingual();
  c.forced_decoder_ids = {{1, 53}, {2, 54}, {3, 56}};
  EXPECT_EQ(whisper_init_tokens(c, {}, "", 1, kNoDetect), (Rows{{51, 53, 54, 56}}));
  // An explicit language or task replaces forced_decoder_ids.
  EXPECT_EQ(whisper_init_tokens(c, {"en"}, "", 1, kNoDetect), (Rows{{51, 52, 55, 56}}));
  // [1, None]: the language is detected into position 1.
  c.forced_decoder_ids = {{1, std::nullopt}, {2, 55}};
  EXPECT_EQ(whisper_init_tokens(c, {}, "", 1, [] { return std::vector<int64_t>{52}; }), (Rows{{51, 52, 55, 56}}));
  c.forced_decoder_ids = {{1, 53}, {3, 54}};  // gap
  EXPECT_THROW(whisper_init_tokens(c, {}, "", 1, kNoDetect), Error);
}

TEST(WhisperPrompt, EnglishOnlyAndLegacyConfigs) {
  WhisperPromptConfig c;
  c.decoder_start = 51;
  c.no_timestamps_id = 56;
  c.is_multilingual = false;
  EXPECT_EQ(whisper_init_tokens(c, {}, "", 1, kNoDetect), (Rows{{51, 56}}));
  EXPECT_THROW(whisper_init_tokens(c, {"en"}, "", 1, kNoDetect), Error);
  EXPECT_THROW(whisper_init_tokens(c, {}, "transcribe", 1, kNoDetect), Error);
  WhisperPromptConfig legacy;  // no lang_to_id / no_timestamps_token_id: only the start token
  legacy.decoder_start = 7;
  EXPECT_EQ(whisper_init_tokens(legacy, {}, "", 1, kNoDetect), (Rows{{7}}));
  EXPECT_THROW(whisper_init_tokens(legacy, {"en"}, "", 1, kNoDetect), Error);
}

TEST(WhisperPrompt, FinishRow) {
  // Trailing pad (= EOS): as many tokens as the row holds pads are cut from its end.
  EXPECT_EQ(whisper_finish_row({51, 52, 11, 12, 50}, 50, 57), (std::vector<int64_t>{51, 52, 11, 12}));
  EXPECT_EQ(whisper_finish_row({51, 50, 11, 50, 50}, 50, 57), (std::vector<int64_t>{51, 50}));
  EXPECT_EQ(whisper_finish_row({51, 52, 11, 12}, 50, 57), (std::vector<int64_t>{51, 52, 11, 12}));
  // Consecutive timestamps cut the row after the last pair unless one timestamp ends it.
  EXPECT_EQ(whisper_finish_row({51, 57, 11, 60, 61, 12, 13}, 50, 57), (std::vector<int64_t>{51, 57, 11, 60}));
  EXPECT_EQ(whisper_finish_row({51, 57, 11, 60, 61, 12, 62}, 50, 57),
            (std::vector<int64_t>{51, 57, 11, 60, 61, 12, 62}));
}

TEST(WhisperModelTest, GenerateHonoursLanguageTaskAndLength) {
  auto m = load_model(fixture("whisper/WhisperForConditionalGeneration"));
  Tensor f = Tensor::zeros(DType::F32, {2, 16, 32});
  for (int64_t i = 0; i < f.numel(); ++i) f.f32()[i] = float(std::sin(0.37 * double(i)));
  GenerateOptions o;
  o.max_new_tokens = 3;
  o.eos_stops = false;
  o.language = {"fr", "en"};
  o.task = "translate";
  auto out = m->generate({{"input_features", f}}, o);
  const Tensor& s = out.at("sequences");
  ASSERT_EQ(s.dim(0), 2);
  EXPECT_EQ(s.i64()[0 * s.dim(1) + 1], 53);
  EXPECT_EQ(s.i64()[1 * s.dim(1) + 1], 52);
  EXPECT_EQ(s.i64()[2], 54);
  EXPECT_EQ(s.i64()[3], 56);
  EXPECT_EQ(out.at("step_logits").shape(), (Shape{2, 3, 64}));
  // begin_suppress_tokens [3, 50] at the first step only; suppress_tokens [7, 9] always.
  const Tensor& sc = out.at("step_scores");
  EXPECT_TRUE(std::isinf(sc.f32()[3]) && std::isinf(sc.f32()[50]));
  EXPECT_TRUE(std::isinf(sc.f32()[64 + 7]) && std::isinf(sc.f32()[64 + 9]));
  EXPECT_FALSE(std::isinf(sc.f32()[64 + 3]));
  // Prompt + max_new_tokens beyond max_target_positions (32) is rejected.
  o.max_new_tokens = 29;
  EXPECT_THROW(m->generate({{"input_features", f}}, o), Error);
}

TEST(WhisperModelTest, InputErrors) {
  auto m = load_model(fixture("whisper/WhisperForConditionalGeneration"));
  Tensor ids = Tensor::from_vector_i64({51, 52}, {1, 2});
  EXPECT_THROW(m->forward({{"input_features", Tensor::zeros(DType::F32, {1, 16, 30})}, {"decoder_input_ids", ids}}),
               Error);  // not 2 * max_source_positions frames
  EXPECT_THROW(m->forward({{"input_features", Tensor::zeros(DType::F32, {1, 12, 32})}, {"decoder_input_ids", ids}}),
               Error);  // wrong mel bins
  EXPECT_THROW(m->forward({{"input_features", Tensor::zeros(DType::F32, {1, 16, 32})}}), Error);
  Tensor bad = Tensor::from_vector_i64({51, 640}, {1, 2});
  EXPECT_THROW(m->forward({{"input_features", Tensor::zeros(DType::F32, {1, 16, 32})}, {"decoder_input_ids", bad}}),
               Error);  // id out of range
  GenerateOptions o;
  EXPECT_THROW(m->generate({{"input_features", Tensor::zeros(DType::F32, {1, 16, 64})}}, o), Unsupported);
}

TEST(WhisperModelTest, ScaleEmbeddingHasNoEffectAndBaseModel) {
  // WhisperEncoder/WhisperDecoder compute embed_scale but never apply it.
  const std::string src = fixture("whisper/WhisperForConditionalGeneration");
  const ScratchDir scaled_dir = scratch_copy(src, "scaled", [](nlohmann::json& c) { c["scale_embedding"] = true; });
  const std::string scaled = scaled_dir.str();
  Tensor f = Tensor::zeros(DType::F32, {1, 16, 32});
  for (int64_t i = 0; i < f.numel(); ++i) f.f32()[i] = float(std::cos(0.11 * double(i)));
  TensorMap in{{"input_features", f}, {"decoder_input_ids", Tensor::from_vector_i64({51, 52, 55, 56}, {1, 4})}};
  auto a = load_model(src)->forward(in);
  auto b = load_model(scaled)->forward(in);
  ASSERT_EQ(a.at("logits").numel(), b.at("logits").numel());
  EXPECT_EQ(0, std::memcmp(a.at("logits").f32(), b.at("logits").f32(), a.at("logits").nbytes()));

  const ScratchDir base_dir = scratch_copy(src, "base", [](nlohmann::json& c) { c["architectures"] = {"WhisperModel"}; });
  const std::string base = base_dir.str();
  auto h = load_model(base)->forward(in);
  EXPECT_EQ(h.at("last_hidden_state").shape(), (Shape{1, 4, 32}));
  EXPECT_EQ(h.count("logits"), 0u);
  const ScratchDir cls = scratch_copy(src, "cls", [](nlohmann::json& c) { c["architectures"] = {"WhisperForAudioClassification"}; });
  EXPECT_THROW(load_model(cls.str()), Unsupported);
}
