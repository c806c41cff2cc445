#include "pipelines/mask_png.h"

#include <vector>

#include "core/error.h"
#include "preprocess/png_encode.h"

namespace ia {

void write_mask_png(const std::string& path, const float* mask, int64_t h, int64_t w) {
  IA_CHECK(h > 0 && w > 0 && h < (int64_t(1) << 24) && w < (int64_t(1) << 24), path, ": bad mask size ", h, "x", w);
  std::vector<uint8_t> pixels(size_t(h * w));
  for (int64_t i = 0; i < h * w; ++i) pixels[size_t(i)] = mask[i] > 0.5f ? 255 : 0;
  write_bytes_file(path, encode_png(pixels.data(), w, h, 1));
}

nlohmann::json mask_to_rle(const float* mask, int64_t h, int64_t w) {
  // Fortran (column-major) order, runs alternate starting with background.
  std::vector<int64_t> counts;
  bool cur = false;
  int64_t run = 0;
  for (int64_t x = 0; x < w; ++x)
    for (int64_t y = 0; y < h; ++y) {
      const bool v = mask[y * w + x] > 0.5f;
      if (v != cur) {
        counts.push_back(run);
        run = 0;
        cur = v;
      }
      ++run;
    }
  counts.push_back(run);
  return {{"size", {h, w}}, {"counts", counts}};
}

}  // namespace ia
