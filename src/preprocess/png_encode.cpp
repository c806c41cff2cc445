// PNG encoding (see png_encode.h).
#include "preprocess/png_encode.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <memory>

#include "core/error.h"

namespace ia {

namespace {
struct PngJob {
  std::string error;
  std::vector<uint8_t>* out = nullptr;
};
void on_png_error(png_structp png, png_const_charp msg) {
  static_cast<PngJob*>(png_get_error_ptr(png))->error = msg ? msg : "libpng error";
  png_longjmp(png, 1);
}
void on_png_warning(png_structp, png_const_charp) {}
void on_png_write(png_structp png, png_bytep data, png_size_t n) {
  auto* job = static_cast<PngJob*>(png_get_io_ptr(png));
  job->out->insert(job->out->end(), data, data + n);
}
void on_png_flush(png_structp) {}
}  // namespace

std::vector<uint8_t> encode_png(const uint8_t* pixels, int64_t width, int64_t height, int channels) {
  IA_CHECK(width > 0 && height > 0 && width < (int64_t(1) << 24) && height < (int64_t(1) << 24),
           "cannot encode a PNG of ", width, "x", height);
  IA_CHECK(channels == 1 || channels == 3 || channels == 4, "cannot encode a PNG with ", channels, " channels");
  const int color = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
  std::vector<uint8_t> bytes;
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  for (int64_t y = 0; y < height; ++y) rows[size_t(y)] = const_cast<png_bytep>(pixels + y * width * channels);
  PngJob job;
  job.out = &bytes;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &job, on_png_error, on_png_warning);
  IA_CHECK(png != nullptr, "libpng could not start");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    fail("libpng could not start");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fail("encoding PNG failed: ", job.error);
  }
  png_set_write_fn(png, &job, on_png_write, on_png_flush);
  png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8, color, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return bytes;
}

void write_bytes_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  IA_CHECK(f != nullptr, path, ": cannot open for writing");
  IA_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size() && std::fflush(f.get()) == 0, path,
           ": write failed");
}

}  // namespace ia
