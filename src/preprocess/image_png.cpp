// PNG decoding with libpng, converted to RGB the way Pillow 9.4 opens the file
// and then calls .convert("RGB"):
//  * RGB / RGBA / LA / palette: 8-bit samples (16-bit files keep the high byte,
//    as Pillow's "RGB;16B" raw modes do), alpha dropped without compositing;
//  * grey 1/2/4-bit scaled to 0..255 (Pillow's "1", "L;2", "L;4");
//  * 16-bit grey opens as mode "I" and I -> RGB clips each value to 0..255;
//  * no gamma or colour-profile handling (Pillow applies none).
#include <png.h>

#include <csetjmp>
#include <cstring>

#include "core/error.h"
#include "preprocess/image.h"

namespace ia::detail {

namespace {

// State shared with libpng's callbacks. Lives in the caller's frame so nothing
// the setjmp frame modifies is read back from a clobbered register.
struct PngJob {
  const uint8_t* data = nullptr;
  size_t size = 0, pos = 0;
  png_structp png = nullptr;
  png_infop info = nullptr;
  char error[256] = {0};
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, channels = 0;
  size_t rowbytes = 0;
  std::vector<uint8_t> pixels;
  std::vector<png_bytep> rows;
  bool too_large = false;
};

void on_error(png_structp png, png_const_charp msg) {
  auto* job = static_cast<PngJob*>(png_get_error_ptr(png));
  std::snprintf(job->error, sizeof(job->error), "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void on_read(png_structp png, png_bytep out, png_size_t n) {
  auto* job = static_cast<PngJob*>(png_get_io_ptr(png));
  if (n > job->size - job->pos) png_error(png, "file is truncated");
  std::memcpy(out, job->data + job->pos, n);
  job->pos += n;
}

// Everything between setjmp and the end of decoding; returns false on a libpng
// error (message in job->error). Only `job` is used after a longjmp.
bool run_png(PngJob* job) {
  if (setjmp(png_jmpbuf(job->png))) return false;
  png_set_read_fn(job->png, job, on_read);
  png_set_user_limits(job->png, 1u << 20, 1u << 20);
  png_read_info(job->png, job->info);
  job->width = png_get_image_width(job->png, job->info);
  job->height = png_get_image_height(job->png, job->info);
  job->bit_depth = png_get_bit_depth(job->png, job->info);
  job->color_type = png_get_color_type(job->png, job->info);
  if (int64_t(job->width) * int64_t(job->height) > kMaxImagePixels) {
    job->too_large = true;
    return false;
  }
  if (job->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(job->png);
  if (job->color_type == PNG_COLOR_TYPE_GRAY && job->bit_depth < 8) png_set_expand_gray_1_2_4_to_8(job->png);
  png_set_interlace_handling(job->png);
  png_read_update_info(job->png, job->info);
  job->channels = png_get_channels(job->png, job->info);
  job->rowbytes = png_get_rowbytes(job->png, job->info);
  job->pixels.resize(job->rowbytes * job->height);
  job->rows.resize(job->height);
  for (png_uint_32 y = 0; y < job->height; ++y) job->rows[y] = job->pixels.data() + size_t(y) * job->rowbytes;
  png_read_image(job->png, job->rows.data());
  png_read_end(job->png, nullptr);
  return true;
}

const char* pil_mode(int color_type, int bit_depth) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return bit_depth == 1 ? "1" : bit_depth == 16 ? "I" : "L";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "LA";
    case PNG_COLOR_TYPE_PALETTE: return "P";
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    default: return "?";
  }
}

}  // namespace

Image decode_png(const uint8_t* data, size_t n, const std::string& what, ImageInfo* info) {
  PngJob job;
  job.data = data;
  job.size = n;
  job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, on_error, on_warning);
  IA_CHECK(job.png, what, ": cannot initialise libpng");
  job.info = png_create_info_struct(job.png);
  if (!job.info) {
    png_destroy_read_struct(&job.png, nullptr, nullptr);
    fail(what, ": cannot initialise libpng");
  }
  const bool ok = run_png(&job);
  png_destroy_read_struct(&job.png, &job.info, nullptr);
  if (job.too_large)
    fail(what, ": PNG image of ", job.width, "x", job.height, " pixels is larger than the supported maximum (",
         kMaxImagePixels, " pixels)");
  if (!ok) fail(what, ": invalid or corrupt PNG (", job.error, ")");

  info->format = "PNG";
  info->mode = pil_mode(job.color_type, job.bit_depth);
  Image img;
  img.width = job.width;
  img.height = job.height;
  img.rgb.resize(size_t(img.width) * size_t(img.height) * 3);
  const int bytes_per_sample = job.rowbytes / (size_t(job.width) * job.channels) == 2 ? 2 : 1;
  const bool grey_i = job.color_type == PNG_COLOR_TYPE_GRAY && job.bit_depth == 16;
  for (int64_t y = 0; y < img.height; ++y) {
    const uint8_t* row = job.rows[y];
    uint8_t* out = img.rgb.data() + size_t(y) * size_t(img.width) * 3;
    for (int64_t x = 0; x < img.width; ++x) {
      const uint8_t* px = row + size_t(x) * job.channels * bytes_per_sample;
      // High byte of each (big-endian) 16-bit sample, or the 8-bit sample.
      auto sample = [&](int c) { return px[c * bytes_per_sample]; };
      uint8_t r, g, b;
      if (job.channels >= 3) {
        r = sample(0), g = sample(1), b = sample(2);
      } else if (grey_i) {
        const unsigned v = (unsigned(px[0]) << 8) | px[1];
        r = g = b = uint8_t(v > 255 ? 255 : v);
      } else {
        r = g = b = sample(0);
      }
      out[x * 3] = r, out[x * 3 + 1] = g, out[x * 3 + 2] = b;
    }
  }
  return img;
}

}  // namespace ia::detail
