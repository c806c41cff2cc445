// PNG encoding with libpng: 8-bit grayscale (1 channel), RGB (3) or RGBA (4) pixels,
// row-major, to bytes in memory or a file. Used for SAM masks, generated images and
// the built-in probe inputs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ia {

std::vector<uint8_t> encode_png(const uint8_t* pixels, int64_t width, int64_t height, int channels);
// Writes bytes to `path`; errors name the file.
void write_bytes_file(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace ia
