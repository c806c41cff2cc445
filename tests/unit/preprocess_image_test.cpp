// Image decoding (PNG / JPEG, every PIL mode -> RGB), Pillow-exact resizing,
// and clear errors for corrupt, truncated and unsupported files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "preprocess/image.h"
#include "preprocess/image_processor.h"
#include "preprocess/pil_resize.h"
#include "scratch_dir.h"

namespace fs = std::filesystem;
using namespace ia;

namespace {

const fs::path kDecode = fs::path(IA_FIXTURES_DIR) / "preprocess_decode";

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

int max_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::abs(int(a[i]) - int(b[i])));
  return m;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PreprocessImage, DecodesEveryModeLikePilConvertRgb) {
  const auto expected = nlohmann::json::parse(std::ifstream(kDecode / "expected.json"));
  const int64_t w = expected["width"], h = expected["height"];
  int checked = 0;
  for (auto it = expected["modes"].begin(); it != expected["modes"].end(); ++it) {
    const std::string name = it.key();
    SCOPED_TRACE(name);
    ImageInfo info;
    const auto bytes = read_bytes(kDecode / name);
    const Image img = decode_image_bytes(bytes.data(), bytes.size(), name, &info);
    EXPECT_EQ(info.mode, it.value().get<std::string>());
    ASSERT_EQ(img.width, w);
    ASSERT_EQ(img.height, h);
    const auto want = read_bytes(kDecode / (name + ".rgb"));
    ASSERT_EQ(img.rgb.size(), want.size());
    // The same libjpeg-turbo with Pillow's settings and the same PNG rules: identical pixels.
    EXPECT_EQ(max_diff(img.rgb, want), 0);
    ++checked;
  }
  EXPECT_EQ(checked, 13);
}

TEST(PreprocessImage, DecodesByContentNotExtension) {
  const ia::test::ScratchDir scratch("png_named_jpg");
  const fs::path tmp = scratch.path() / "png_named.jpg";
  fs::copy_file(kDecode / "rgb.png", tmp, fs::copy_options::overwrite_existing);
  const Image img = decode_image_file(tmp.string());
  EXPECT_EQ(img.rgb, read_bytes(kDecode / "rgb.png.rgb"));
}

TEST(PreprocessImage, CorruptAndUnsupportedFilesGiveClearErrors) {
  const auto png = read_bytes(kDecode / "rgb.png");
  const auto jpg = read_bytes(kDecode / "rgb.jpg");
  auto try_bytes = [](std::vector<uint8_t> b, const std::string& what) {
    return error_of([&] { decode_image_bytes(b.data(), b.size(), what); });
  };
  EXPECT_NE(try_bytes({}, "empty.png").find("empty.png: empty image data"), std::string::npos);
  EXPECT_NE(try_bytes(std::vector<uint8_t>(png.begin(), png.begin() + png.size() / 2), "half.png").find("half.png: invalid or corrupt PNG"),
            std::string::npos);
  EXPECT_NE(try_bytes(std::vector<uint8_t>(png.begin(), png.begin() + 20), "hdr.png").find("hdr.png"), std::string::npos);
  EXPECT_NE(try_bytes(std::vector<uint8_t>(jpg.begin(), jpg.begin() + jpg.size() / 2), "half.jpg").find("half.jpg: invalid or corrupt JPEG"),
            std::string::npos);
  EXPECT_NE(try_bytes(std::vector<uint8_t>(jpg.begin(), jpg.begin() + 4), "tiny.jpg").find("tiny.jpg"), std::string::npos);
  auto bad_crc = png;
  bad_crc[30] ^= 0xff;  // inside IHDR: its CRC no longer matches
  EXPECT_NE(try_bytes(bad_crc, "crc.png").find("crc.png: invalid or corrupt PNG"), std::string::npos);
  const std::string gif = "GIF89a\x01\x00\x01\x00";
  EXPECT_NE(try_bytes(std::vector<uint8_t>(gif.begin(), gif.end()), "a.gif").find("a.gif: unsupported image format GIF"),
            std::string::npos);
  const std::string text = "hello world, not an image";
  EXPECT_NE(try_bytes(std::vector<uint8_t>(text.begin(), text.end()), "x.txt").find("x.txt: not a PNG or JPEG"),
            std::string::npos);
  EXPECT_NE(error_of([] { decode_image_file("/nonexistent/dir/img.png"); }).find("/nonexistent/dir/img.png: cannot open"),
            std::string::npos);
}

TEST(PreprocessImage, ForgedHugeDimensionsAreRejectedBeforeAllocating) {
  auto png = read_bytes(kDecode / "rgb.png");
  // IHDR width/height at bytes 16..23; 60000 x 60000 (CRC left stale: either check rejects it).
  for (int i : {16, 20}) png[i] = 0, png[i + 1] = 0, png[i + 2] = 0xEA, png[i + 3] = 0x60;
  const std::string e = error_of([&] { decode_image_bytes(png.data(), png.size(), "big.png"); });
  EXPECT_NE(e.find("big.png"), std::string::npos) << e;
}

TEST(PreprocessResize, MatchesPillowForEveryFilterBitExact) {
  const auto cases = nlohmann::json::parse(std::ifstream(kDecode / "resize_cases.json"));
  const Image src = decode_image_file((kDecode / "rgb.png").string());
  ASSERT_EQ(cases.size(), 30u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.dump());
    const Image out = pil_resize(src, c["width"], c["height"], resample_from_code(c["filter"], "test"));
    const auto want = read_bytes(kDecode / c["file"].get<std::string>());
    ASSERT_EQ(out.rgb.size(), want.size());
    EXPECT_EQ(max_diff(out.rgb, want), 0);
  }
}

TEST(PreprocessResize, RejectsBadArguments) {
  Image img;
  img.width = 2, img.height = 2, img.rgb.assign(12, 7);
  EXPECT_THROW(pil_resize(img, 0, 3, Resample::Bilinear), Error);
  EXPECT_THROW(resample_from_code(9, "cfg"), Error);
  EXPECT_EQ(pil_resize(img, 2, 2, Resample::Bicubic).rgb, img.rgb);
}

TEST(PreprocessImageProcessor, ConfigErrorsNameFileAndField) {
  auto err = [](const std::string& text) {
    return error_of([&] { ImageProcessor::from_json_text(text, "pp.json"); });
  };
  EXPECT_NE(err("{}").find("pp.json: field 'image_processor_type'"), std::string::npos);
  EXPECT_NE(err(R"({"image_processor_type": "ViTImageProcessor", "size": {"height": 4}})").find("pp.json: field 'size'"),
            std::string::npos);
  EXPECT_NE(err(R"({"image_processor_type": "ViTImageProcessor", "size": -3})").find("pp.json: field 'size'"),
            std::string::npos);
  EXPECT_NE(err(R"({"image_processor_type": "CLIPImageProcessor", "image_mean": [0.1, 0.2]})").find("pp.json: field 'image_mean'"),
            std::string::npos);
  EXPECT_NE(err(R"({"image_processor_type": "ViTImageProcessor", "resample": 11})").find("resample"), std::string::npos);
  EXPECT_THROW(ImageProcessor::from_json_text(R"({"image_processor_type": "DetrImageProcessor"})", "pp.json"), Unsupported);
  EXPECT_NE(error_of([] { ImageProcessor::from_dir("/nonexistent"); }).find("preprocessor_config.json"), std::string::npos);
}

TEST(PreprocessImageProcessor, DefaultsAndSizeForms) {
  // Old-style integer size: ViT squares it, CLIP takes it as the shortest edge.
  const auto vit = ImageProcessor::from_json_text(R"({"image_processor_type": "ViTImageProcessor", "size": 8})", "v");
  EXPECT_EQ(vit.output_height(), 8);
  EXPECT_EQ(vit.output_width(), 8);
  const auto clip = ImageProcessor::from_json_text(R"({"feature_extractor_type": "CLIPFeatureExtractor", "size": 10, "crop_size": 6})", "c");
  Image img;
  img.width = 20, img.height = 12;
  img.rgb.assign(20 * 12 * 3, 200);
  const auto st = clip.run(img);
  EXPECT_EQ(st.resized.height, 10);
  EXPECT_EQ(st.resized.width, 16);  // int(10 * 20 / 12)
  EXPECT_EQ(st.pixel_values.shape(), (Shape{1, 3, 6, 6}));
  // Crop larger than the image: zero padding around it, as center_crop does.
  const auto pad = ImageProcessor::from_json_text(
      R"({"image_processor_type": "CLIPImageProcessor", "do_resize": false, "crop_size": {"height": 5, "width": 3},
          "do_rescale": false, "do_normalize": false})", "p");
  Image small;
  small.width = 1, small.height = 2, small.rgb = {1, 1, 1, 2, 2, 2};
  const auto ps = pad.run(small);
  ASSERT_EQ(ps.cropped.height, 5);
  ASSERT_EQ(ps.cropped.width, 3);
  // rows: top_pad = ceil(3 / 2) = 2; cols: left_pad = 1.
  EXPECT_EQ(ps.cropped.at(2, 1, 0), 1);
  EXPECT_EQ(ps.cropped.at(3, 1, 0), 2);
  EXPECT_EQ(ps.cropped.at(1, 1, 0), 0);
  EXPECT_EQ(ps.cropped.at(2, 0, 0), 0);
  // A batch of differently sized images that do not come out the same size is an error.
  const auto nocrop = ImageProcessor::from_json_text(R"({"image_processor_type": "CLIPImageProcessor", "do_center_crop": false, "size": 4})", "n");
  EXPECT_THROW(nocrop.preprocess_batch({img, small}), Error);
  EXPECT_EQ(vit.preprocess_batch({img, small}).shape(), (Shape{2, 3, 8, 8}));
}

TEST(PreprocessImageProcessor, SamCoordinatesAndShapes) {
  const auto sam = ImageProcessor::from_json_text(R"({"image_processor_type": "SamImageProcessor"})", "s");
  EXPECT_EQ(ImageProcessor::sam_preprocess_shape(53, 37, 64), (std::array<int64_t, 2>{64, 45}));
  EXPECT_EQ(ImageProcessor::sam_preprocess_shape(480, 640, 1024), (std::array<int64_t, 2>{768, 1024}));
  const auto pts = sam.sam_rescale_coordinates({320, 240, 640, 480}, 480, 640);
  EXPECT_DOUBLE_EQ(pts[0], 512);
  EXPECT_DOUBLE_EQ(pts[1], 384);
  EXPECT_DOUBLE_EQ(pts[2], 1024);
  EXPECT_DOUBLE_EQ(pts[3], 768);
  EXPECT_THROW(sam.sam_rescale_coordinates({1, 2, 3}, 10, 10), Error);
  EXPECT_EQ(sam.output_height(), 1024);
}

TEST(PreprocessImage, LoadImageAppliesExifOrientationLikePil) {
  const auto sizes = nlohmann::json::parse(std::ifstream(kDecode / "exif_sizes.json"));
  ASSERT_EQ(sizes.size(), 16u);
  for (auto it = sizes.begin(); it != sizes.end(); ++it) {
    SCOPED_TRACE(it.key());
    const auto bytes = read_bytes(kDecode / it.key());
    const int o = std::stoi(it.key().substr(5, 1));
    EXPECT_EQ(exif_orientation(bytes.data(), bytes.size()), o);
    const Image img = load_image_file((kDecode / it.key()).string());
    EXPECT_EQ(img.width, it.value()[0].get<int64_t>());
    EXPECT_EQ(img.height, it.value()[1].get<int64_t>());
    EXPECT_EQ(max_diff(img.rgb, read_bytes(kDecode / (it.key() + ".rgb"))), 0);
    // Image.open (decode_image_*) keeps the stored orientation.
    EXPECT_EQ(decode_image_bytes(bytes.data(), bytes.size(), it.key()).width, 5);
  }
  const auto plain = read_bytes(kDecode / "rgb.jpg");
  EXPECT_EQ(exif_orientation(plain.data(), plain.size()), 1);
}
