#include "pipelines/stable_diffusion_image.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "core/error.h"
#include "preprocess/png_encode.h"
#include "preprocess/pil_resize.h"

namespace ia::sd_image {

void default_size(const Image& img, int64_t factor, int64_t* height, int64_t* width) {
  if (*height <= 0) *height = img.height;
  if (*width <= 0) *width = img.width;
  *height -= *height % factor;
  *width -= *width % factor;
  IA_CHECK(*height > 0 && *width > 0, "image of ", img.width, "x", img.height, " is smaller than the latent factor ",
           factor);
}

namespace {
Image resized(const Image& img, int64_t height, int64_t width) {
  IA_CHECK(img.width > 0 && img.height > 0, "empty input image");
  // PIL returns a copy for a same-size resize; otherwise VaeImageProcessor uses Lanczos.
  if (img.width == width && img.height == height) return img;
  return pil_resize(img, width, height, Resample::Lanczos);
}
}  // namespace

Tensor preprocess_image(const Image& img, int64_t height, int64_t width) {
  const Image r = resized(img, height, width);
  Tensor t = Tensor::f32({1, 3, height, width});
  float* p = t.f32();
  for (int c = 0; c < 3; ++c)
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x) {
        const float v = float(r.at(y, x, c)) / 255.0f;
        p[(c * height + y) * width + x] = 2.0f * v - 1.0f;
      }
  return t;
}

Tensor preprocess_mask(const Image& mask, int64_t height, int64_t width) {
  const Image r = resized(mask, height, width);
  Tensor t = Tensor::f32({1, 1, height, width});
  float* p = t.f32();
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      // PIL convert("L"): ITU-R 601-2 luma in 16-bit fixed point.
      const uint32_t l = (uint32_t(r.at(y, x, 0)) * 19595 + uint32_t(r.at(y, x, 1)) * 38470 +
                          uint32_t(r.at(y, x, 2)) * 7471 + 0x8000) >> 16;
      const float v = float(l) / 255.0f;
      p[y * width + x] = v < 0.5f ? 0.0f : 1.0f;
    }
  return t;
}

Tensor nearest_resize(const Tensor& mask, int64_t h, int64_t w) {
  IA_CHECK(mask.rank() == 4, "mask must be [B, C, H, W], got ", shape_str(mask.shape()));
  const int64_t B = mask.dim(0), C = mask.dim(1), H = mask.dim(2), W = mask.dim(3);
  Tensor out = Tensor::f32({B, C, h, w});
  const float sh = float(H) / float(h), sw = float(W) / float(w);
  for (int64_t bc = 0; bc < B * C; ++bc)
    for (int64_t y = 0; y < h; ++y) {
      const int64_t sy = std::min(int64_t(std::floor(float(y) * sh)), H - 1);
      for (int64_t x = 0; x < w; ++x) {
        const int64_t sx = std::min(int64_t(std::floor(float(x) * sw)), W - 1);
        out.f32()[(bc * h + y) * w + x] = mask.f32()[(bc * H + sy) * W + sx];
      }
    }
  return out;
}

Tensor postprocess(const Tensor& decoded) {
  IA_CHECK(decoded.rank() == 4, "decoded image must be [B, C, H, W], got ", shape_str(decoded.shape()));
  const int64_t B = decoded.dim(0), C = decoded.dim(1), H = decoded.dim(2), W = decoded.dim(3);
  Tensor out = Tensor::f32({B, H, W, C});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
          const float v = decoded.f32()[((b * C + c) * H + y) * W + x] / 2.0f + 0.5f;
          out.f32()[((b * H + y) * W + x) * C + c] = std::clamp(v, 0.0f, 1.0f);
        }
  return out;
}

Image to_image_u8(const Tensor& nhwc, int64_t index) {
  IA_CHECK(nhwc.rank() == 4 && nhwc.dim(3) == 3 && index < nhwc.dim(0), "image tensor must be [B, H, W, 3], got ",
           shape_str(nhwc.shape()));
  Image img;
  img.height = nhwc.dim(1);
  img.width = nhwc.dim(2);
  img.rgb.resize(size_t(img.height * img.width * 3));
  const float* p = nhwc.f32() + index * img.height * img.width * 3;
  for (size_t i = 0; i < img.rgb.size(); ++i)
    img.rgb[i] = uint8_t(std::clamp(std::nearbyint(p[i] * 255.0f), 0.0f, 255.0f));
  return img;
}

Image image_from_tensor(const Tensor& t_in, const std::string& what) {
  const Tensor t = t_in.to_i64();
  IA_CHECK((t.rank() == 3 && t.dim(2) == 3) || t.rank() == 2, what, ": expected (H, W, 3) or (H, W), got ",
           shape_str(t.shape()));
  Image img;
  img.height = t.dim(0);
  img.width = t.dim(1);
  img.rgb.resize(size_t(img.height * img.width * 3));
  for (int64_t i = 0; i < img.height * img.width; ++i)
    for (int c = 0; c < 3; ++c) {
      const int64_t v = t.rank() == 3 ? t.i64()[i * 3 + c] : t.i64()[i];
      IA_CHECK(v >= 0 && v <= 255, what, ": pixel value ", v, " outside 0..255");
      img.rgb[size_t(i * 3 + c)] = uint8_t(v);
    }
  return img;
}

std::vector<uint8_t> encode_png(const Image& img) {
  IA_CHECK(img.width > 0 && img.height > 0 && img.rgb.size() == size_t(img.width * img.height * 3),
           "cannot encode a PNG of ", img.width, "x", img.height, " from ", img.rgb.size(), " bytes");
  return ia::encode_png(img.rgb.data(), img.width, img.height, 3);
}

void write_png(const std::string& path, const Image& img) { write_bytes_file(path, encode_png(img)); }

std::string base64_encode(const std::vector<uint8_t>& data) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8) | data[i + 2];
    for (int k = 3; k >= 0; --k) out.push_back(tbl[(v >> (6 * k)) & 63]);
  }
  if (i < data.size()) {
    const bool two = i + 1 < data.size();
    const uint32_t v = (uint32_t(data[i]) << 16) | (two ? uint32_t(data[i + 1]) << 8 : 0);
    out.push_back(tbl[(v >> 18) & 63]);
    out.push_back(tbl[(v >> 12) & 63]);
    out.push_back(two ? tbl[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace ia::sd_image
