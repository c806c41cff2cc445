// JPEG decoding with libjpeg-turbo using Pillow 9.4's settings (ISLOW integer
// DCT, fancy upsampling, libjpeg's own YCbCr->RGB conversion), then the RGB
// conversion of .convert("RGB"): greyscale replicated, CMYK (stored inverted,
// Adobe convention, as Pillow assumes) converted with Pillow's cmyk2rgb.
// A file that ends before its image data does is an error, as in Pillow
// ("image file is truncated"); other recoverable libjpeg warnings are ignored.
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first.
#include <jerror.h>
#include <jpeglib.h>

#include <csetjmp>
#include <cstring>

#include "core/error.h"
#include "preprocess/image.h"

namespace ia::detail {

namespace {

struct JpegJob {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  jmp_buf jump;
  char error[JMSG_LENGTH_MAX + 64] = {0};
  bool too_large = false;
  int components = 0;
  J_COLOR_SPACE source_space = JCS_UNKNOWN;
  std::vector<uint8_t> pixels;  // height * width * components
};

JpegJob* job_of(j_common_ptr c) { return static_cast<JpegJob*>(c->client_data); }

void on_error_exit(j_common_ptr c) {
  JpegJob* job = job_of(c);
  c->err->format_message(c, job->error);
  std::longjmp(job->jump, 1);
}

void on_message(j_common_ptr c, int level) {
  if (level == -1 && c->err->msg_code == JWRN_JPEG_EOF) {
    JpegJob* job = job_of(c);
    std::snprintf(job->error, sizeof(job->error), "image file is truncated");
    std::longjmp(job->jump, 1);
  }
}

bool run_jpeg(JpegJob* job, const uint8_t* data, size_t n) {
  if (setjmp(job->jump)) return false;
  jpeg_mem_src(&job->cinfo, data, (unsigned long)n);
  jpeg_read_header(&job->cinfo, TRUE);
  if (int64_t(job->cinfo.image_width) * int64_t(job->cinfo.image_height) > kMaxImagePixels) {
    job->too_large = true;
    return false;
  }
  job->source_space = job->cinfo.jpeg_color_space;
  switch (job->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: job->cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: job->cinfo.out_color_space = JCS_CMYK; break;
    default: job->cinfo.out_color_space = JCS_RGB; break;
  }
  job->cinfo.dct_method = JDCT_ISLOW;
  job->cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&job->cinfo);
  job->components = job->cinfo.output_components;
  const size_t stride = size_t(job->cinfo.output_width) * job->components;
  job->pixels.resize(stride * job->cinfo.output_height);
  while (job->cinfo.output_scanline < job->cinfo.output_height) {
    JSAMPROW row = job->pixels.data() + stride * job->cinfo.output_scanline;
    jpeg_read_scanlines(&job->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&job->cinfo);
  return true;
}

// Pillow's MULDIV255: a * b / 255 rounded, in integers.
inline int muldiv255(int a, int b) {
  const int t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}
inline uint8_t clip8(int v) { return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v); }

}  // namespace

Image decode_jpeg(const uint8_t* data, size_t n, const std::string& what, ImageInfo* info) {
  JpegJob job;
  job.cinfo.err = jpeg_std_error(&job.err);
  job.err.error_exit = on_error_exit;
  job.err.emit_message = on_message;
  jpeg_create_decompress(&job.cinfo);
  job.cinfo.client_data = &job;
  const bool ok = run_jpeg(&job, data, n);
  const int64_t w = job.cinfo.output_width, h = job.cinfo.output_height;
  const int64_t iw = job.cinfo.image_width, ih = job.cinfo.image_height;
  jpeg_destroy_decompress(&job.cinfo);
  if (job.too_large)
    fail(what, ": JPEG image of ", iw, "x", ih, " pixels is larger than the supported maximum (", kMaxImagePixels,
         " pixels)");
  if (!ok) fail(what, ": invalid or corrupt JPEG (", job.error, ")");

  info->format = "JPEG";
  Image img;
  img.width = w;
  img.height = h;
  const size_t count = size_t(w) * size_t(h);
  img.rgb.resize(count * 3);
  const uint8_t* src = job.pixels.data();
  uint8_t* dst = img.rgb.data();
  if (job.components == 1) {
    info->mode = "L";
    for (size_t i = 0; i < count; ++i) dst[i * 3] = dst[i * 3 + 1] = dst[i * 3 + 2] = src[i];
  } else if (job.components == 4) {
    info->mode = "CMYK";
    for (size_t i = 0; i < count; ++i) {
      // Inverted storage ("CMYK;I"), then cmyk2rgb: channel = (255-k) - c*(255-k)/255.
      const int c = 255 - src[i * 4], m = 255 - src[i * 4 + 1], y = 255 - src[i * 4 + 2], k = 255 - src[i * 4 + 3];
      const int nk = 255 - k;
      dst[i * 3] = clip8(nk - muldiv255(c, nk));
      dst[i * 3 + 1] = clip8(nk - muldiv255(m, nk));
      dst[i * 3 + 2] = clip8(nk - muldiv255(y, nk));
    }
  } else {
    IA_CHECK(job.components == 3, what, ": JPEG decoded to ", job.components, " components");
    info->mode = "RGB";
    std::memcpy(dst, src, count * 3);
  }
  return img;
}

}  // namespace ia::detail
