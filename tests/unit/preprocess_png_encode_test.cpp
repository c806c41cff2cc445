// PNG encoding round-trips through the PNG decoder for every channel count, and
// rejects sizes and channel counts it cannot encode.
#include <gtest/gtest.h>

#include "core/error.h"
#include "preprocess/image.h"
#include "preprocess/png_encode.h"

using namespace ia;

TEST(PngEncode, RoundTripsGrayRgbAndRgba) {
  const int64_t w = 7, h = 5;
  for (int channels : {1, 3, 4}) {
    std::vector<uint8_t> px(size_t(w * h * channels));
    for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 37 + 11) & 0xFF);
    if (channels == 4)
      for (int64_t i = 0; i < w * h; ++i) px[size_t(i * 4 + 3)] = 255;  // opaque: RGB conversion keeps the colours
    const std::vector<uint8_t> png = encode_png(px.data(), w, h, channels);
    const Image img = decode_image_bytes(png.data(), png.size(), "encoded.png");
    ASSERT_EQ(img.width, w);
    ASSERT_EQ(img.height, h);
    for (int64_t i = 0; i < w * h; ++i)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(img.rgb[size_t(i * 3 + c)], px[size_t(i * channels + (channels == 1 ? 0 : c))])
            << channels << " channels, pixel " << i;
  }
}

TEST(PngEncode, RejectsWhatItCannotEncode) {
  const uint8_t px[4] = {0, 0, 0, 0};
  EXPECT_THROW(encode_png(px, 0, 1, 3), Error);
  EXPECT_THROW(encode_png(px, 1, 1, 2), Error);
  EXPECT_THROW(encode_png(px, int64_t(1) << 30, 1, 1), Error);
  EXPECT_THROW(write_bytes_file("/nonexistent-dir/x.png", {1, 2}), Error);
}
