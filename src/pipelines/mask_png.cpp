#include "pipelines/mask_png.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <memory>
#include <vector>

#include "core/error.h"

namespace ia {

namespace {

struct WriteJob {
  std::string path, error;
};

void on_error(png_structp png, png_const_charp msg) {
  auto* job = static_cast<WriteJob*>(png_get_error_ptr(png));
  job->error = msg ? msg : "libpng error";
  png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}

}  // namespace

void write_mask_png(const std::string& path, const float* mask, int64_t h, int64_t w) {
  IA_CHECK(h > 0 && w > 0 && h < (int64_t(1) << 24) && w < (int64_t(1) << 24), path, ": bad mask size ", h, "x", w);
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  IA_CHECK(f != nullptr, path, ": cannot open for writing");
  std::vector<uint8_t> pixels(size_t(h * w));
  for (int64_t i = 0; i < h * w; ++i) pixels[size_t(i)] = mask[i] > 0.5f ? 255 : 0;
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  for (int64_t y = 0; y < h; ++y) rows[size_t(y)] = pixels.data() + y * w;
  WriteJob job{path, ""};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &job, on_error, on_warning);
  IA_CHECK(png != nullptr, path, ": libpng could not start");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    fail(path, ": libpng could not start");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fail(path, ": writing PNG failed: ", job.error);
  }
  png_init_io(png, f.get());
  png_set_IHDR(png, info, png_uint_32(w), png_uint_32(h), 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  IA_CHECK(std::fflush(f.get()) == 0, path, ": write failed");
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
