// Every bundled whisper / wav2vec2 fixture passes verify, and the speech
// template reports its parameters and tasks.
#include <gtest/gtest.h>

#include "speech_test_util.h"
#include "verify/verify.h"

using namespace ia;
using namespace speech_test;

TEST(SpeechFixtures, EveryCasePasses) {
  const std::vector<std::string> dirs = {"whisper/WhisperForConditionalGeneration", "wav2vec2/Wav2Vec2ForCTC",
                                         "wav2vec2/Wav2Vec2ForCTC-stable-layer-norm"};
  for (const auto& rel : dirs) {
    auto results = verify_model_fixture(fixture(rel), rel, VerifyOptions{});
    ASSERT_GE(results.size(), 1u) << rel;
    for (const auto& r : results) EXPECT_EQ(r.status, CaseStatus::Pass) << rel << " " << r.case_name << ": " << r.detail;
  }
}

TEST(SpeechFixtures, DescribeAndTasks) {
  auto w = load_model(fixture("whisper/WhisperForConditionalGeneration"));
  EXPECT_EQ(w->family(), Family::Speech);
  auto j = w->describe();
  EXPECT_EQ(j["audio_encoder"]["num_mel_bins"], 16);
  EXPECT_EQ(j["audio_encoder"]["input_frames"], 32);
  EXPECT_EQ(j["whisper_generation"]["no_timestamps_token_id"], 56);
  EXPECT_EQ(j["positions"]["offset"], 0);
  EXPECT_EQ(w->tasks(), std::vector<std::string>{"automatic-speech-recognition"});

  auto c = load_model(fixture("wav2vec2/Wav2Vec2ForCTC"));
  auto k = c->describe();
  EXPECT_EQ(k["feature_encoder"]["norm"], "group");
  EXPECT_EQ(k["encoder"]["norm"], "post-norm");
  EXPECT_EQ(k["positional_conv"]["kernel"], 16);
  EXPECT_EQ(c->tasks(), std::vector<std::string>{"automatic-speech-recognition"});
  auto s = load_model(fixture("wav2vec2/Wav2Vec2ForCTC-stable-layer-norm"))->describe();
  EXPECT_EQ(s["feature_encoder"]["norm"], "layer");
  EXPECT_EQ(s["encoder"]["norm"], "pre-norm (stable layer norm)");
}
