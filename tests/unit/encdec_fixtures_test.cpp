// Every bundled t5 / bart fixture passes verify (forward and generate), and the
// template reports its parameters and tasks.
#include <gtest/gtest.h>

#include <filesystem>

#include "encdec_test_util.h"
#include "verify/verify.h"

using namespace ia;
using namespace encdec_test;

TEST(EncDecFixtures, EveryCasePasses) {
  auto dirs = fixture_dirs();
  ASSERT_GE(dirs.size(), 3u) << "expected the t5 (v1.0, v1.1) and bart fixtures";
  for (const auto& d : dirs) {
    auto results = verify_model_fixture(d, fs::path(d).filename().string(), VerifyOptions{});
    ASSERT_GE(results.size(), 2u) << d;
    for (const auto& r : results)
      EXPECT_EQ(r.status, CaseStatus::Pass) << d << " " << r.case_name << ": " << r.detail;
  }
}

TEST(EncDecFixtures, DescribeAndTasks) {
  auto t5 = load(fixture("t5/T5ForConditionalGeneration"));
  auto j = t5->describe();
  EXPECT_EQ(j["template"], "encoder-decoder");
  EXPECT_EQ(j["positions"]["kind"], "relative-buckets");
  EXPECT_EQ(j["positions"]["num_buckets"], 8);
  EXPECT_EQ(j["norm"]["placement"], "pre-norm");
  EXPECT_EQ(j["lm_head"]["tied"], true);
  EXPECT_NEAR(j["lm_head"]["scale"].get<double>(), 1.0 / std::sqrt(32.0), 1e-7);
  EXPECT_EQ(j["encoder"]["ffn_per_layer"].size(), 2u);
  auto tasks = t5->tasks();
  EXPECT_NE(std::find(tasks.begin(), tasks.end(), "translation"), tasks.end());
  EXPECT_NE(std::find(tasks.begin(), tasks.end(), "summarization"), tasks.end());
  EXPECT_NE(std::find(tasks.begin(), tasks.end(), "text2text-generation"), tasks.end());

  auto v11 = load(fixture("t5/T5ForConditionalGeneration-v1_1-gated-gelu"));
  auto k = v11->describe();
  EXPECT_EQ(k["ffn"]["gated"], true);
  EXPECT_EQ(k["ffn"]["activation"], "gelu_new");
  EXPECT_EQ(k["lm_head"]["tied"], false);
  EXPECT_EQ(k["decoder"]["layers"], 1);

  auto bart = load(fixture("bart/BartForConditionalGeneration"));
  auto b = bart->describe();
  EXPECT_EQ(b["norm"]["placement"], "post-norm");
  EXPECT_EQ(b["positions"]["offset"], 2);
  EXPECT_EQ(b["lm_head"]["final_logits_bias"], true);
  EXPECT_EQ(bart->family(), Family::EncoderDecoder);
}
