// Binary masks as 8-bit grayscale PNG files (0 / 255) and as COCO-style
// uncompressed run-length encodings (column-major, starting with a zero run),
// the two forms the mask-generation pipeline returns.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace ia {

// mask: h*w row-major values; > 0.5 is foreground. Errors name the path.
void write_mask_png(const std::string& path, const float* mask, int64_t h, int64_t w);

// {"size": [h, w], "counts": [...]} as transformers' _mask_to_rle_pytorch builds it.
nlohmann::json mask_to_rle(const float* mask, int64_t h, int64_t w);

}  // namespace ia
