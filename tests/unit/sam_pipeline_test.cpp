// The mask-generation pipeline end to end on a tiny SAM checkpoint with a
// SamImageProcessor config: JSON shape, RLE and PNG outputs agree with each
// other and with the model + processor run directly; errors are reported.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "pipelines/mask_generation_pipeline.h"
#include "preprocess/image.h"
#include "preprocess/image_processor.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path kDir = fs::path(IA_FIXTURES_DIR) / "sam_blip_variants" / "pipelines";
std::string model_dir() { return (kDir / "sam-tiny").string(); }
std::string image() { return (kDir / "landscape_300x200.png").string(); }

using ia::test::ScratchDir;

// Decodes a COCO-style column-major RLE into row-major 0/1.
std::vector<int> rle_decode(const json& rle) {
  const int64_t h = rle["size"][0], w = rle["size"][1];
  std::vector<int> col;
  int v = 0;
  for (int64_t c : rle["counts"]) {
    col.insert(col.end(), size_t(c), v);
    v ^= 1;
  }
  EXPECT_EQ(int64_t(col.size()), h * w);
  std::vector<int> m(size_t(h * w));
  for (int64_t x = 0; x < w; ++x)
    for (int64_t y = 0; y < h; ++y) m[size_t(y * w + x)] = col[size_t(x * h + y)];
  return m;
}

}  // namespace

TEST(SamPipeline, PointPromptGivesThreeScoredMasksAsRleAndPng) {
  MaskGenerationRequest req;
  req.image = image();
  req.points = {{150.0, 100.0}, {40.0, 30.0}};
  req.labels = {1, 0};
  const ScratchDir scratch("sam_png");
  req.out_dir = (scratch.path() / "out").string();
  MaskGenerationPipeline pipe(model_dir());
  json r = pipe.run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  EXPECT_EQ(r["device"], "cpu");
  const json& out = r["segmentation_output"];
  ASSERT_EQ(out["masks"].size(), 3u);
  EXPECT_EQ(out["image_size"], json({200, 300}));

  // The same computation done by hand: processor, rescaled prompts, model, post-processing.
  ImageProcessor proc = ImageProcessor::from_dir(model_dir());
  ImageProcessor::Stages st = proc.run(decode_image_file(image()));
  std::vector<double> xy = proc.sam_rescale_coordinates({150.0, 100.0, 40.0, 30.0}, 200, 300);
  auto model = load_model(model_dir());
  TensorMap o = model->forward({{"pixel_values", st.pixel_values},
                                {"input_points", Tensor::from_vector({float(xy[0]), float(xy[1]), float(xy[2]),
                                                                      float(xy[3])},
                                                                     {1, 1, 2, 2})},
                                {"input_labels", Tensor::from_vector_i64({1, 0}, {1, 1, 2})}});
  Tensor masks = proc.sam_post_process_masks(o["pred_masks"], 200, 300, st.reshaped_h, st.reshaped_w, true);
  for (int i = 0; i < 3; ++i) {
    const json& m = out["masks"][size_t(i)];
    EXPECT_FLOAT_EQ(m["score"].get<float>(), o["iou_scores"].f32()[i]);
    std::vector<int> dec = rle_decode(m["rle"]);
    int64_t area = 0;
    for (int64_t p = 0; p < 200 * 300; ++p) {
      ASSERT_EQ(dec[size_t(p)], masks.f32()[i * 60000 + p] > 0.5f ? 1 : 0) << "mask " << i << " pixel " << p;
      area += dec[size_t(p)];
    }
    EXPECT_EQ(m["area"].get<int64_t>(), area);
    Image png = decode_image_file(m["png"].get<std::string>());
    ASSERT_EQ(png.width, 300);
    ASSERT_EQ(png.height, 200);
    for (int64_t p = 0; p < 200 * 300; ++p) ASSERT_EQ(png.rgb[size_t(p * 3)], dec[size_t(p)] ? 255 : 0);
  }
}

TEST(SamPipeline, BoxPromptSingleMask) {
  MaskGenerationRequest req;
  req.image = image();
  req.box = parse_box("50,40,250,180");
  req.multimask = false;
  req.rle = false;
  json r = MaskGenerationPipeline(model_dir()).run(req);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  ASSERT_EQ(r["segmentation_output"]["masks"].size(), 1u);
  EXPECT_FALSE(r["segmentation_output"]["masks"][0].contains("rle"));
  EXPECT_EQ(r["segmentation_output"]["box"], json({50.0, 40.0, 250.0, 180.0}));
}

TEST(SamPipeline, ErrorsAreResults) {
  MaskGenerationRequest req;
  req.image = image();
  req.points = {{1.0, 2.0}};
  req.labels = {1, 0};
  json r = MaskGenerationPipeline(model_dir()).run(req);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("--labels"), std::string::npos) << r.dump();

  const ScratchDir scratch("sam_bad");
  fs::path bad = scratch.path() / "bad.png";
  std::ofstream(bad) << "not an image";
  req.labels = {1};
  req.image = bad.string();
  r = MaskGenerationPipeline(model_dir()).run(req);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find(bad.string()), std::string::npos) << r.dump();
  fs::remove(bad);

  req.image = image();
  r = MaskGenerationPipeline((kDir / "blip-tiny").string()).run(req);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("SAM"), std::string::npos) << r.dump();

  EXPECT_THROW(parse_points("1,2;3"), Error);
  EXPECT_THROW(parse_labels("1,2"), Error);
  EXPECT_THROW(parse_box("1,2,3"), Error);
  EXPECT_THROW(parse_box("5,5,1,1"), Error);
}

TEST(SamPipeline, CliRunWritesJson) {
  const ScratchDir scratch("sam_cli");
  fs::path out = scratch.path() / "out";
  std::string cmd = std::string(IA_CLI_PATH) + " run " + model_dir() + " --image " + image() +
                    " --points 150,100 --labels 1 --out-dir " + out.string() + " --json 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
  int status = pclose(p);
  ASSERT_EQ(WEXITSTATUS(status), 0) << text;
  json r = json::parse(text);
  EXPECT_TRUE(r["success"].get<bool>());
  EXPECT_EQ(r["segmentation_output"]["masks"].size(), 3u);
  EXPECT_TRUE(fs::exists(out / "mask_0.png"));
}

TEST(SamPipeline, LabelsOptionStaysACountForTextModels) {
  // --labels is shared with fill-mask / classification, where it is a count.
  fs::path bert;
  for (const auto& e : fs::directory_iterator(fs::path(IA_FIXTURES_DIR) / "models" / "bert")) bert = e.path();
  std::string cmd = std::string(IA_CLI_PATH) + " run " + bert.string() + " --input hi --labels 1,0 --json 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
  pclose(p);
  json r = json::parse(text);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("--labels: expected a count"), std::string::npos) << text;
}
