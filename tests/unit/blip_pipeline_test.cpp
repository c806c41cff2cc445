// The image-to-text pipeline end to end on the tiny BLIP captioner with a
// BlipImageProcessor config and a WordPiece tokenizer: the caption is what
// generate() gives on the processor's pixels, prompts are honoured.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "pipelines/captioning_pipeline.h"
#include "preprocess/image.h"
#include "preprocess/image_processor.h"
#include "tokenizers/tokenizer.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path kDir = fs::path(IA_FIXTURES_DIR) / "sam_blip_variants" / "pipelines";
std::string model_dir() { return (kDir / "blip-tiny").string(); }
std::string image() { return (kDir / "checker_224x224.jpg").string(); }

}  // namespace

TEST(BlipPipeline, CaptionIsGreedyGenerateDecoded) {
  CaptionRequest req;
  req.image = image();
  json r = CaptioningPipeline(model_dir()).run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  ASSERT_EQ(r["caption"].size(), 1u);
  const json& c = r["caption"][0];
  std::vector<uint32_t> ids = c["token_ids"].get<std::vector<uint32_t>>();
  ASSERT_GE(ids.size(), 2u);
  EXPECT_LE(ids.size(), 20u);  // the decoder's default max_length
  EXPECT_EQ(ids[0], 126u);     // [DEC] = text_config.bos_token_id

  ImageProcessor proc = ImageProcessor::from_dir(model_dir());
  auto model = load_model(model_dir());
  GenerateOptions o;
  o.max_new_tokens = 19;
  TensorMap g = model->generate({{"pixel_values", proc.preprocess(decode_image_file(image()))}}, o);
  ASSERT_EQ(g["sequences"].dim(1), int64_t(ids.size()));
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(int64_t(ids[i]), g["sequences"].i64()[i]);
  Tokenizer tok = Tokenizer::from_dir(model_dir());
  EXPECT_EQ(c["generated_text"].get<std::string>(), tok.decode(ids, true));
  EXPECT_EQ(c["generated_text"].get<std::string>().find("[DEC]"), std::string::npos);
}

TEST(BlipPipeline, PromptIsContinued) {
  CaptionRequest req;
  req.image = image();
  req.prompt = "a photo of";
  req.max_new_tokens = 4;
  json r = CaptioningPipeline(model_dir()).run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  std::vector<uint32_t> ids = r["caption"][0]["token_ids"].get<std::vector<uint32_t>>();
  Tokenizer tok = Tokenizer::from_dir(model_dir());
  std::vector<uint32_t> prompt = tok.encode("a photo of", true).ids;  // [CLS] a photo of [SEP]
  ASSERT_EQ(ids.size(), prompt.size() - 1 + 4);
  EXPECT_EQ(ids[0], 126u);  // [CLS] replaced by bos
  for (size_t i = 1; i + 1 < prompt.size(); ++i) EXPECT_EQ(ids[i], prompt[i]);
  EXPECT_EQ(r["caption"][0]["generated_text"].get<std::string>().rfind("a photo of", 0), 0u);
}

TEST(BlipPipeline, ErrorsAreResults) {
  CaptionRequest req;
  req.image = "/nonexistent/ia/picture.png";
  json r = CaptioningPipeline(model_dir()).run(req);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("/nonexistent/ia/picture.png"), std::string::npos) << r.dump();
  req.image = image();
  r = CaptioningPipeline((kDir / "sam-tiny").string()).run(req);
  EXPECT_FALSE(r["success"].get<bool>());
}

TEST(BlipPipeline, CliRun) {
  std::string cmd = std::string(IA_CLI_PATH) + " run " + model_dir() + " --task image-to-text --image " + image() +
                    " --prompt 'a photo of' --max-new-tokens 3 --json 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
  int status = pclose(p);
  ASSERT_EQ(WEXITSTATUS(status), 0) << text;
  json r = json::parse(text);
  ASSERT_TRUE(r["success"].get<bool>()) << text;
  EXPECT_EQ(r["caption"][0]["token_ids"].size(), 4u + 3u);  // [DEC] a photo of + 3 new
}

TEST(BlipPipeline, QuestionAnsweringCheckpointAnswers) {
  // The generated VQA fixture plus a processor config and a word-level tokenizer (token i = "w<i>").
  const fs::path src = fs::path(IA_FIXTURES_DIR) / "sam_blip_variants" / "blip" / "BlipForQuestionAnswering-image48";
  const ia::test::ScratchDir scratch("blip_vqa");
  const fs::path& dir = scratch.path();
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(src / f, dir / f);
  fs::copy_file(fs::path(model_dir()) / "preprocessor_config.json", dir / "preprocessor_config.json");
  {
    json pp = json::parse(std::ifstream(dir / "preprocessor_config.json"));
    pp["size"] = {{"height", 48}, {"width", 48}};
    std::ofstream(dir / "preprocessor_config.json") << pp.dump();
  }
  json vocab = json::object(), added = json::array();
  for (int i = 0; i < 50; ++i) vocab["w" + std::to_string(i)] = i;
  for (int i : {0, 2, 48, 49})
    added.push_back({{"id", i}, {"content", "w" + std::to_string(i)}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  json tok = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
              {"normalizer", nullptr}, {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}, {"post_processor", nullptr},
              {"decoder", nullptr}, {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "w1"}}}};
  std::ofstream(dir / "tokenizer.json") << tok.dump();

  CaptionRequest req;
  req.image = image();
  req.prompt = "w2 w10 w11 w12";
  req.max_new_tokens = 4;
  json r = CaptioningPipeline(dir.string()).run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  ASSERT_EQ(r["visual_qa"].size(), 1u);
  std::vector<uint32_t> ids = r["visual_qa"][0]["token_ids"].get<std::vector<uint32_t>>();
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], 48u);  // answers start from text_config.bos_token_id

  // Same as the model's generate on the processor's pixels and the question ids.
  ImageProcessor proc = ImageProcessor::from_dir(dir.string());
  auto model = load_model(dir.string());
  GenerateOptions o;
  o.max_new_tokens = 4;
  TensorMap g = model->generate({{"pixel_values", proc.preprocess(decode_image_file(image()))},
                                 {"input_ids", Tensor::from_vector_i64({2, 10, 11, 12}, {1, 4})}},
                                o);
  ASSERT_EQ(g["sequences"].dim(1), int64_t(ids.size()));
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(int64_t(ids[i]), g["sequences"].i64()[i]);
  req.prompt.clear();
  EXPECT_FALSE(CaptioningPipeline(dir.string()).run(req)["success"].get<bool>());
}
