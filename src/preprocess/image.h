// Decoded images as the preprocessors consume them: 8-bit RGB, HWC, the pixels
// PIL gives for Image.open(path).convert("RGB"). PNG and JPEG are recognised by
// their content (never by the file extension); anything else is rejected with a
// clear ia::Error naming the source.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ia {

struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height * width * 3 bytes, row-major HWC

  uint8_t at(int64_t y, int64_t x, int c) const { return rgb[size_t((y * width + x) * 3 + c)]; }
};

// The colour layout of the file before conversion (PIL's mode names: "RGB",
// "RGBA", "L", "LA", "P", "1", "I", "CMYK"); informative only.
struct ImageInfo {
  std::string format;  // "PNG" or "JPEG"
  std::string mode;
};

Image decode_image_file(const std::string& path);
// `what` names the source (file name, "stdin", "base64 input") in error messages.
Image decode_image_bytes(const uint8_t* data, size_t n, const std::string& what);
Image decode_image_bytes(const uint8_t* data, size_t n, const std::string& what, ImageInfo* info);

// Largest image accepted (width * height), so a forged header cannot make the
// decoder allocate gigabytes.
constexpr int64_t kMaxImagePixels = int64_t(1) << 27;

namespace detail {
Image decode_png(const uint8_t* data, size_t n, const std::string& what, ImageInfo* info);
Image decode_jpeg(const uint8_t* data, size_t n, const std::string& what, ImageInfo* info);
}  // namespace detail

}  // namespace ia
