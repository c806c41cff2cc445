// End-to-end text pipeline tests on bundled tiny checkpoints paired with a
// word-level tokenizer written here (one word per model id), so generated ids
// can be compared with the transformers reference of the same checkpoint.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pipelines/text_pipeline.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;

#include "pipelines_test_util.h"

TEST(TextPipeline, GreedyGenerationMatchesTransformersTokens) {
  const ScratchDir dir_scratch = model_with_tokenizer("gpt2/GPT2LMHeadModel", 128, {});
  std::string dir = dir_scratch.str();
  TextPipeline pipe(dir);
  TextRequest req;
  req.task = "text-generation";
  req.inputs = {words({28, 49, 59, 118, 69, 67, 60})};  // the reference's generate prompt
  req.generation = pipe.generation_defaults();
  req.generation.max_new_tokens = 8;
  std::string streamed;
  req.on_text = [&](const std::string& s) { streamed += s; };
  json r = pipe.run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  std::vector<int64_t> expect = {52, 52, 52, 67, 49, 49, 80, 80};  // reference.json new_token_ids
  EXPECT_EQ(r["generation"][0]["token_ids"].get<std::vector<int64_t>>(), expect);
  EXPECT_EQ(r["generated_text"].get<std::string>(), words(expect));
  EXPECT_EQ(streamed, r["generated_text"].get<std::string>());
  EXPECT_EQ(r["generation"][0]["finish_reason"], "length");
  EXPECT_EQ(r["device"], "cpu");
  EXPECT_TRUE(r["hardware"].contains("isa"));
}

TEST(TextPipeline, StopStringEndsGenerationAndIsExcluded) {
  const ScratchDir dir_scratch = model_with_tokenizer("gpt2/GPT2LMHeadModel", 128, {});
  std::string dir = dir_scratch.str();
  TextPipeline pipe(dir);
  TextRequest req;
  req.inputs = {words({28, 49, 59, 118, 69, 67, 60})};
  req.generation = pipe.generation_defaults();
  req.generation.max_new_tokens = 8;
  req.generation.stop_strings = {"w67"};
  std::string streamed;
  req.on_text = [&](const std::string& s) { streamed += s; };
  json r = pipe.run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  EXPECT_EQ(r["generation"][0]["finish_reason"], "stop");
  EXPECT_EQ(r["generated_text"].get<std::string>(), "w52 w52 w52 ");
  EXPECT_EQ(streamed, "w52 w52 w52 ");
}

TEST(TextPipeline, EosFromGenerationConfigStopsAndSeededSamplingRepeats) {
  const ScratchDir dir_scratch = model_with_tokenizer("gpt2/GPT2LMHeadModel", 128, {});
  std::string dir = dir_scratch.str();
  TextPipeline pipe(dir);
  TextRequest req;
  req.inputs = {words({28, 49, 59, 118, 69, 67, 60})};
  req.generation = pipe.generation_defaults();
  EXPECT_EQ(req.generation.eos_token_ids, std::vector<int64_t>{0});
  req.generation.eos_token_ids = {67};  // the 4th greedy token becomes EOS
  req.generation.max_new_tokens = 8;
  json r = pipe.run(req);
  ASSERT_TRUE(r["success"].get<bool>());
  EXPECT_EQ(r["generation"][0]["finish_reason"], "eos");
  EXPECT_EQ(r["generation"][0]["new_tokens"], 4);
  EXPECT_EQ(r["generated_text"], "w52 w52 w52");

  req.generation.eos_token_ids = {};
  req.generation.sampling.do_sample = true;
  req.generation.sampling.top_k = 0;
  req.generation.sampling.temperature = 1.5f;
  req.generation.sampling.seed = 7;
  json a = pipe.run(req), b = pipe.run(req);
  ASSERT_TRUE(a["success"].get<bool>());
  EXPECT_EQ(a["generation"][0]["token_ids"], b["generation"][0]["token_ids"]);
}

TEST(TextPipeline, FillMaskAndClassificationOnEncoderHeads) {
  const ScratchDir dir_scratch = model_with_tokenizer("bert/BertForMaskedLM", 128, {{3, "[MASK]"}});
  std::string dir = dir_scratch.str();
  TextPipeline mlm(dir);
  TextRequest req;
  req.task = "fill-mask";
  req.inputs = {"w28 w49 [MASK] w118"};
  req.top_k = 3;
  json r = mlm.run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  const auto& cands = r["predictions"][0]["candidates"];
  ASSERT_EQ(cands.size(), 3u);
  EXPECT_EQ(r["predictions"][0]["position"], 2);
  EXPECT_GE(cands[0]["score"].get<double>(), cands[1]["score"].get<double>());
  req.inputs = {"w28 w49"};
  EXPECT_FALSE(mlm.run(req)["success"].get<bool>());  // no mask token: a clear error, not a crash

  const ScratchDir cls_scratch = model_with_tokenizer("bert/BertForSequenceClassification", 128, {});
  dir = cls_scratch.str();
  TextPipeline cls(dir);
  TextRequest creq;
  creq.task = "text-classification";
  creq.inputs = {"w28 w49 w59", "w78 w32"};
  creq.top_k = 100;
  json c = cls.run(creq);
  ASSERT_TRUE(c["success"].get<bool>()) << c.dump();
  ASSERT_EQ(c["classification"].size(), 2u);
  double sum = 0;
  for (const auto& e : c["classification"][0]["results"]) sum += e["score"].get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-5);
  creq.task = "text-generation";
  json bad = cls.run(creq);
  EXPECT_FALSE(bad["success"].get<bool>());
  EXPECT_NE(bad["error"].get<std::string>().find("not served"), std::string::npos);
}

TEST(TextPipeline, MissingTokenizerIsAClearError) {
  fs::path src = fs::path(IA_FIXTURES_DIR) / "models" / "gpt2" / "GPT2LMHeadModel";
  try {
    TextPipeline pipe(src.string());
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos);
  }
}
