// End-to-end image, vision-text and multimodal pipelines on the bundled tiny
// checkpoints plus a preprocessor_config.json, a word-level tokenizer and PNG
// images written here; the JSON is checked against the model's own outputs.
#include <gtest/gtest.h>

#include <iterator>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "backends/cpu/kernels.h"
#include "core/error.h"
#include "pipelines/image_input.h"
#include "pipelines/multimodal_pipeline.h"
#include "pipelines/vision_dispatch.h"
#include "pipelines/vision_text_pipeline.h"
#include "preprocess/image_processor.h"
#include "preprocess/png_encode.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;
using ia::test::ScratchDir;

namespace {

// An RGB test pattern as PNG.
std::string png_rgb(int w, int h, int seed) {
  std::vector<uint8_t> rgb;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) rgb.push_back(uint8_t((x * 7 + y * 13 + c * 50 + seed * 31) & 0xFF));
  const std::vector<uint8_t> png = encode_png(rgb.data(), w, h, 3);
  return std::string(png.begin(), png.end());
}


std::string write_png(const fs::path& dir, const std::string& name, int w, int h, int seed) {
  fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << png_rgb(w, h, seed);
  return p.string();
}

// A scratch copy of a bundled fixture checkpoint with an image processor config (and a
// tokenizer), removed when the returned object goes.
ScratchDir model_dir(const std::string& fixture, const json& preprocessor, const json& tokenizer = nullptr) {
  fs::path src = fs::path(IA_FIXTURES_DIR) / "models" / fixture;
  ScratchDir scratch("vision_pipe_" + fs::path(fixture).filename().string());
  const fs::path& dst = scratch.path();
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json"})
    if (fs::exists(src / f)) fs::copy_file(src / f, dst / f);
  std::ofstream(dst / "preprocessor_config.json") << preprocessor.dump();
  if (!tokenizer.is_null()) std::ofstream(dst / "tokenizer.json") << tokenizer.dump();
  return scratch;
}

json vit_processor(int size) {
  return {{"image_processor_type", "ViTImageProcessor"}, {"do_resize", true}, {"size", {{"height", size}, {"width", size}}},
          {"resample", 2}, {"do_rescale", true}, {"rescale_factor", 1.0 / 255}, {"do_normalize", true},
          {"image_mean", {0.5, 0.5, 0.5}}, {"image_std", {0.5, 0.5, 0.5}}};
}

json clip_processor(int size) {
  return {{"image_processor_type", "CLIPImageProcessor"}, {"do_resize", true}, {"size", {{"shortest_edge", size}}},
          {"resample", 3}, {"do_center_crop", true}, {"crop_size", {{"height", size}, {"width", size}}},
          {"do_rescale", true}, {"rescale_factor", 1.0 / 255}, {"do_normalize", true}, {"do_convert_rgb", true},
          {"image_mean", {0.48145466, 0.4578275, 0.40821073}}, {"image_std", {0.26862954, 0.26130258, 0.27577711}}};
}

// WordLevel tokenizer: `words` map to ids; a TemplateProcessing adds bos/eos when given.
json word_tokenizer(const std::map<std::string, int64_t>& words, const std::map<std::string, int64_t>& specials,
                    const std::string& bos, const std::string& eos, const std::string& unk) {
  json vocab = json::object(), added = json::array();
  for (const auto& [w, id] : words) vocab[w] = id;
  for (const auto& [w, id] : specials) {
    vocab[w] = id;
    added.push_back({{"id", id}, {"content", w}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", true}});
  }
  json post = nullptr;
  if (!bos.empty()) {
    json single = json::array({{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}});
    json st = {{bos, {{"id", bos}, {"ids", {specials.at(bos)}}, {"tokens", {bos}}}}};
    if (!eos.empty()) {
      single.push_back({{"SpecialToken", {{"id", eos}, {"type_id", 0}}}});
      st[eos] = {{"id", eos}, {"ids", {specials.at(eos)}}, {"tokens", {eos}}};
    }
    json pair = single;
    pair.push_back({{"Sequence", {{"id", "B"}, {"type_id", 1}}}});
    post = {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", st}};
  }
  return {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
          {"normalizer", nullptr}, {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}, {"post_processor", post},
          {"decoder", nullptr}, {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", unk}}}};
}

// The bundled LLaVA with a word-level tokenizer: "wN" is token N, USER: 17, ASSISTANT: 23,
// <s> 1, </s> 2, <unk> 0, <image> 127.
ScratchDir llava_dir() {
  std::map<std::string, int64_t> words;
  for (int64_t i = 3; i < 127; ++i) words["w" + std::to_string(i)] = i;
  words["USER:"] = 17;
  words["ASSISTANT:"] = 23;
  json tok = word_tokenizer(words, {{"<s>", 1}, {"</s>", 2}, {"<unk>", 0}, {"<image>", 127}}, "<s>", "", "<unk>");
  return model_dir("llava/LlavaForConditionalGeneration", clip_processor(32), tok);
}

}  // namespace

TEST(VisionPipelines, ImageClassificationScoresAreTheSoftmaxOfTheLogits) {
  const ScratchDir dir_scratch = model_dir("vit/ViTForImageClassification", vit_processor(32));
  fs::path dir = dir_scratch.path();
  std::string img = write_png(dir, "a.png", 40, 30, 1);
  VisionRequest req;
  req.images = {img};
  req.top_k = 3;
  json r = run_image_family_pipeline(dir.string(), req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  EXPECT_EQ(r["task"], "image-classification");
  ASSERT_EQ(r["classifications"].size(), 3u);
  // Same pixels straight through the model.
  auto m = load_model(dir.string());
  Tensor px = ImageProcessor::from_dir(dir.string()).preprocess(load_image_input(img));
  Tensor logits = m->forward({{"pixel_values", px}}).at("logits");
  std::vector<float> p(logits.f32(), logits.f32() + 5);
  cpu::softmax_inplace(p.data(), 5);
  const int64_t best = std::max_element(p.begin(), p.end()) - p.begin();
  EXPECT_EQ(r["classifications"][0]["label"], "LABEL_" + std::to_string(best));
  EXPECT_NEAR(r["classifications"][0]["score"].get<double>(), p[size_t(best)], 1e-6);
  EXPECT_GE(r["classifications"][0]["score"].get<double>(), r["classifications"][1]["score"].get<double>());
  EXPECT_EQ(r["device"], "cpu");
  EXPECT_TRUE(r.contains("hardware"));
}

TEST(VisionPipelines, ImageFeatureExtractionReturnsTheClsToken) {
  const ScratchDir dir_scratch = model_dir("vit/ViTModel", vit_processor(32));
  fs::path dir = dir_scratch.path();
  std::string img = write_png(dir, "a.png", 32, 32, 2);
  VisionRequest req;
  req.task = "image-feature-extraction";
  req.images = {img, img};
  json r = run_image_family_pipeline(dir.string(), req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  ASSERT_EQ(r["embeddings"].size(), 2u);
  ASSERT_EQ(r["embeddings"][0].size(), 32u);
  auto m = load_model(dir.string());
  Tensor px = ImageProcessor::from_dir(dir.string()).preprocess(load_image_input(img));
  Tensor h = m->forward({{"pixel_values", px}}).at("last_hidden_state");
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(r["embeddings"][1][i].get<double>(), h.f32()[i], 1e-6);
  EXPECT_EQ(r["pooling"], "cls");
}

TEST(VisionPipelines, ZeroShotScoresAreTheSoftmaxOfLogitsPerImage) {
  json tok = word_tokenizer({{"a", 10}, {"photo", 11}, {"of", 12}, {"cat.", 13}, {"dog.", 14}, {"car.", 15}},
                            {{"<s>", 126}, {"</s>", 127}, {"<unk>", 0}, {"<pad>", 1}}, "<s>", "</s>", "<unk>");
  const ScratchDir dir_scratch = model_dir("clip/CLIPModel", clip_processor(32), tok);
  fs::path dir = dir_scratch.path();
  std::ofstream(dir / "special_tokens_map.json") << json({{"pad_token", "<pad>"}}).dump();
  std::string img = write_png(dir, "a.png", 48, 36, 3);
  VisionRequest req;
  req.task = "zero-shot-image-classification";
  req.images = {img};
  req.candidate_labels = {"cat", "dog", "car"};
  json r = run_image_family_pipeline(dir.string(), req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  const json& s = r["similarity"];
  EXPECT_EQ(s["texts"][0], "a photo of cat.");
  ASSERT_EQ(s["scores"].size(), 3u);
  // The model on the same ids: <s> a photo of X </s>.
  auto m = load_model(dir.string());
  std::vector<int64_t> ids;
  for (int64_t label : {13, 14, 15}) ids.insert(ids.end(), {126, 10, 11, 12, label, 127});
  TensorMap in{{"input_ids", Tensor::from_vector_i64(ids, {3, 6})},
               {"pixel_values", ImageProcessor::from_dir(dir.string()).preprocess(load_image_input(img))}};
  Tensor lpi = m->forward(in).at("logits_per_image");
  std::vector<float> p(lpi.f32(), lpi.f32() + 3);
  cpu::softmax_inplace(p.data(), 3);
  double total = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(s["logits_per_image"][i].get<double>(), lpi.f32()[i], 1e-4);
    EXPECT_NEAR(s["scores"][i].get<double>(), p[size_t(i)], 1e-5);
    total += s["scores"][i].get<double>();
  }
  EXPECT_NEAR(total, 1.0, 1e-5);
  const int64_t best = std::max_element(p.begin(), p.end()) - p.begin();
  EXPECT_EQ(s["highest_idx"], best);
  EXPECT_EQ(s["highest_match"], req.candidate_labels[size_t(best)]);

  // image-text-similarity: texts as given, cosine = logits / logit_scale.
  req.task = "image-text-similarity";
  req.candidate_labels = {"a photo of cat.", "dog."};
  json t = run_image_family_pipeline(dir.string(), req);
  ASSERT_TRUE(t["success"].get<bool>()) << t.dump();
  const json& ts = t["similarity"];
  const double scale = ts["logits_per_image"][0].get<double>() / ts["cosine_similarity"][0].get<double>();
  auto ck = Checkpoint::open_dir(dir.string());
  EXPECT_NEAR(scale, std::exp(double(ck->get("logit_scale").to_f32().f32()[0])), 1e-3);
  EXPECT_NEAR(ts["logits_per_image"][0].get<double>(), lpi.f32()[0], 1e-4);
}

TEST(VisionPipelines, LlavaImageTextToTextDecodesTheGreedyTokens) {
  const ScratchDir dir_scratch = llava_dir();
  fs::path dir = dir_scratch.path();
  std::string img = write_png(dir, "a.png", 50, 40, 4);
  VisionRequest req;
  req.images = {img};
  req.prompt = "w45 w99";
  req.max_new_tokens = 6;
  json r = run_image_family_pipeline(dir.string(), req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  EXPECT_EQ(r["task"], "image-text-to-text");
  EXPECT_EQ(r["prompt"], "USER: <image>\nw45 w99 ASSISTANT:");
  // Same ids through the model: <s> USER: <image> w45 w99 ASSISTANT:
  auto m = load_model(dir.string());
  TensorMap in{{"input_ids", Tensor::from_vector_i64({1, 17, 127, 45, 99, 23}, {1, 6})},
               {"pixel_values", ImageProcessor::from_dir(dir.string()).preprocess(load_image_input(img))}};
  GenerateOptions o;
  o.max_new_tokens = 6;
  Tensor seq = m->generate(in, o).at("sequences");
  std::vector<int64_t> want(seq.i64() + 6, seq.i64() + seq.dim(1));
  EXPECT_EQ(r["new_token_ids"].get<std::vector<int64_t>>(), want);
  std::string text;
  for (int64_t id : want)
    if (id > 2 && id != 127) text += (text.empty() ? "" : " ") + std::string("w") + std::to_string(id);
  // WordLevel without a decoder joins tokens with spaces; specials (<s>, </s>, <unk>, <image>) are skipped.
  EXPECT_EQ(r["generated_text"], text);
}

// Sampling (seeded, reproducible), streaming (the pieces add up to the text) and
// stop strings go through the same generation loop as text models.
TEST(VisionPipelines, LlavaSamplesStreamsAndStops) {
  const ScratchDir dir_scratch = llava_dir();
  fs::path dir = dir_scratch.path();
  std::string img = write_png(dir, "a.png", 50, 40, 4);
  VisionRequest req;
  req.images = {img};
  req.prompt = "w45 w99";
  req.max_new_tokens = 8;
  const json greedy = run_image_family_pipeline(dir.string(), req);
  ASSERT_TRUE(greedy["success"].get<bool>()) << greedy.dump();
  EXPECT_EQ(greedy["decoding"], "greedy");

  auto sampled = [&](uint64_t seed, std::string* streamed) {
    VisionRequest r = req;
    GenerationSettings g;
    g.max_new_tokens = 8;
    g.sampling.do_sample = true;
    g.sampling.temperature = 1.5f;
    g.sampling.seed = seed;
    r.generation = g;
    if (streamed) r.on_text = [streamed](const std::string& piece) { *streamed += piece; };
    return run_image_family_pipeline(dir.string(), r);
  };
  std::string streamed;
  const json a = sampled(7, &streamed), b = sampled(7, nullptr);
  ASSERT_TRUE(a["success"].get<bool>()) << a.dump();
  EXPECT_EQ(a["decoding"], "sample");
  EXPECT_EQ(a["new_token_ids"], b["new_token_ids"]);  // same seed, same tokens
  EXPECT_EQ(streamed, a["generated_text"].get<std::string>());
  bool differs = false;
  for (uint64_t seed = 1; seed <= 5 && !differs; ++seed) differs = sampled(seed, nullptr)["new_token_ids"] != greedy["new_token_ids"];
  EXPECT_TRUE(differs) << "sampling at temperature 1.5 never left the greedy path";

  // A stop string cuts the greedy text where it first appears.
  const std::string text = greedy["generated_text"];
  const size_t sp = text.find(' ');
  ASSERT_NE(sp, std::string::npos) << text;
  const std::string stop = text.substr(sp + 1, text.find(' ', sp + 1) - sp - 1);
  VisionRequest r = req;
  GenerationSettings g;
  g.max_new_tokens = 8;
  g.stop_strings = {stop};
  r.generation = g;
  const json s = run_image_family_pipeline(dir.string(), r);
  ASSERT_TRUE(s["success"].get<bool>()) << s.dump();
  EXPECT_EQ(s["finish_reason"], "stop");
  EXPECT_EQ(s["generated_text"], text.substr(0, text.find(stop)));
}

// The command line streams LLaVA's text as it is decoded and takes the sampling flags.
TEST(VisionPipelines, LlavaRunCommandStreamsAndSamples) {
  const ScratchDir dir_scratch = llava_dir();
  fs::path dir = dir_scratch.path();
  std::string img = write_png(dir, "a.png", 50, 40, 4);
  VisionRequest req;
  req.images = {img};
  req.prompt = "w45 w99";
  req.max_new_tokens = 5;
  const json greedy = run_image_family_pipeline(dir.string(), req);
  ASSERT_TRUE(greedy["success"].get<bool>()) << greedy.dump();
  const fs::path out = dir / "out.txt";
  const std::string base = std::string(IA_CLI_PATH) + " run " + dir.string() + " --task image-text-to-text --input " +
                           img + " --prompt 'w45 w99' --max-new-tokens 5";
  ASSERT_EQ(std::system((base + " > " + out.string()).c_str()), 0);
  std::ifstream in(out);
  std::string printed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(printed, greedy["generated_text"].get<std::string>() + "\n");
  ASSERT_EQ(std::system((base + " --sample --temperature 1.5 --seed 3 --json > " + out.string()).c_str()), 0);
  std::ifstream in2(out);
  const json sampled = json::parse(in2);
  EXPECT_EQ(sampled["decoding"], "sample");
  EXPECT_EQ(sampled["new_token_ids"].size(), 5u);
}

// With a chat template the prompt is the template's rendering of one user turn
// [image, text]: this template renders the llava-1.5 format after a "w7" marker
// the built-in format does not have, so the ids show which prompt was used.
TEST(VisionPipelines, LlavaPromptGoesThroughTheChatTemplate) {
  const ScratchDir dir_scratch = llava_dir();
  fs::path dir = dir_scratch.path();
  std::ofstream(dir / "tokenizer_config.json")
      << json{{"chat_template",
               "w7 {% for m in messages %}{{ m['role'].upper() }}: {% for c in m['content'] %}{% if c['type'] == 'image' %}"
               "<image>\n{% else %}{{ c['text'] }}{% endif %}{% endfor %}{% endfor %}"
               "{% if add_generation_prompt %} ASSISTANT:{% endif %}"}}
             .dump();
  std::string img = write_png(dir, "a.png", 50, 40, 4);
  VisionRequest req;
  req.images = {img};
  req.prompt = "w45 w99";
  req.max_new_tokens = 4;
  json r = run_image_family_pipeline(dir.string(), req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  EXPECT_EQ(r["prompt"], "w7 USER: <image>\nw45 w99 ASSISTANT:");
  auto m = load_model(dir.string());
  TensorMap in{{"input_ids", Tensor::from_vector_i64({1, 7, 17, 127, 45, 99, 23}, {1, 7})},
               {"pixel_values", ImageProcessor::from_dir(dir.string()).preprocess(load_image_input(img))}};
  GenerateOptions o;
  o.max_new_tokens = 4;
  Tensor seq = m->generate(in, o).at("sequences");
  EXPECT_EQ(r["new_token_ids"].get<std::vector<int64_t>>(), std::vector<int64_t>(seq.i64() + 7, seq.i64() + seq.dim(1)));
}

TEST(VisionPipelines, BadImagesAndTasksGiveClearErrors) {
  const ScratchDir dir_scratch = model_dir("vit/ViTModel", vit_processor(32));
  fs::path dir = dir_scratch.path();
  VisionRequest req;
  req.images = {(dir / "missing.png").string()};
  json r = run_image_family_pipeline(dir.string(), req);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("no such image file"), std::string::npos) << r.dump();
  std::ofstream(dir / "bad.png") << "not an image at all";
  req.images = {(dir / "bad.png").string()};
  r = run_image_family_pipeline(dir.string(), req);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("bad.png"), std::string::npos) << r.dump();
  req.images = {"https://example.com/cat.png"};
  r = run_image_family_pipeline(dir.string(), req);
  EXPECT_NE(r["error"].get<std::string>().find("not fetched"), std::string::npos) << r.dump();
  req.images = {write_png(dir, "ok.png", 8, 8, 0)};
  req.task = "zero-shot-image-classification";
  r = run_image_family_pipeline(dir.string(), req);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("not available"), std::string::npos) << r.dump();
  EXPECT_THROW(decode_base64("abc$", "test"), Error);
  EXPECT_EQ(decode_base64("aGk=", "test"), (std::vector<uint8_t>{'h', 'i'}));
}
