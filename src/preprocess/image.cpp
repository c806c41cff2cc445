// Format detection by magic bytes and file reading for the image decoders.
#include "preprocess/image.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"

namespace ia {

namespace {

bool starts_with(const uint8_t* d, size_t n, const char* magic, size_t m) {
  return n >= m && std::memcmp(d, magic, m) == 0;
}

const char* guess_other_format(const uint8_t* d, size_t n) {
  if (starts_with(d, n, "GIF8", 4)) return "GIF";
  if (starts_with(d, n, "BM", 2)) return "BMP";
  if (starts_with(d, n, "RIFF", 4) && n >= 12 && std::memcmp(d + 8, "WEBP", 4) == 0) return "WebP";
  if (starts_with(d, n, "II*\0", 4) || starts_with(d, n, "MM\0*", 4)) return "TIFF";
  if (starts_with(d, n, "RIFF", 4)) return "RIFF (audio?)";
  return nullptr;
}

}  // namespace

Image decode_image_bytes(const uint8_t* data, size_t n, const std::string& what, ImageInfo* info) {
  ImageInfo local;
  if (!info) info = &local;
  if (n == 0 || data == nullptr) fail(what, ": empty image data");
  if (starts_with(data, n, "\x89PNG\r\n\x1a\n", 8)) return detail::decode_png(data, n, what, info);
  if (starts_with(data, n, "\xff\xd8\xff", 3)) return detail::decode_jpeg(data, n, what, info);
  const char* other = guess_other_format(data, n);
  if (other) fail(what, ": unsupported image format ", other, " (only PNG and JPEG are supported)");
  fail(what, ": not a PNG or JPEG image (unrecognised file signature)");
}

Image decode_image_bytes(const uint8_t* data, size_t n, const std::string& what) {
  return decode_image_bytes(data, n, what, nullptr);
}

Image decode_image_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  IA_CHECK(f.good(), path, ": cannot open image file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  IA_CHECK(!f.bad(), path, ": read error");
  return decode_image_bytes(bytes.data(), bytes.size(), path, nullptr);
}

}  // namespace ia
