// A port of the algorithm in Pillow's libImaging/Resample.c (precompute_coeffs,
// normalize_coeffs_8bpc, ImagingResampleHorizontal/Vertical_8bpc) and of the
// nearest-neighbour ImagingScaleAffine path; written from the description of
// that algorithm, the arithmetic (double coefficients, rounding to 22-bit
// integers, half-up accumulation) follows it exactly so results are identical.
#include "preprocess/pil_resize.h"

#include <cmath>

#include "core/error.h"

namespace ia {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double filter_box(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }
double filter_bilinear(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}
double filter_hamming(double x) {
  x = std::fabs(x);
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x *= M_PI;
  return std::sin(x) / x * (0.54 + 0.46 * std::cos(x));
}
double filter_bicubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}
double filter_lanczos(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0; }

struct Filter {
  double (*fn)(double);
  double support;
};

Filter filter_for(Resample r) {
  switch (r) {
    case Resample::Box: return {filter_box, 0.5};
    case Resample::Bilinear: return {filter_bilinear, 1.0};
    case Resample::Hamming: return {filter_hamming, 1.0};
    case Resample::Bicubic: return {filter_bicubic, 2.0};
    case Resample::Lanczos: return {filter_lanczos, 3.0};
    default: fail("pil_resize: no convolution filter for resample code ", int(r));
  }
}

// Per output pixel: first input index, number of taps, and the taps rounded to
// fixed point (Pillow keeps ksize slots per pixel, unused ones zero).
struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;   // 2 per output pixel: xmin, count
  std::vector<int32_t> k;    // ksize per output pixel
};

Coeffs precompute(int64_t in_size, double in0, double in1, int64_t out_size, const Filter& f) {
  const double scale = (in1 - in0) / double(out_size);
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = f.support * filterscale;
  Coeffs c;
  c.ksize = int(std::ceil(support)) * 2 + 1;
  c.bounds.resize(size_t(out_size) * 2);
  c.k.assign(size_t(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (double(xx) + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = int(in_size);
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = f.fn((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[size_t(xx) * c.ksize + x] =
          int32_t(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[size_t(xx) * 2] = xmin;
    c.bounds[size_t(xx) * 2 + 1] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t in) {
  if (in >= (1 << kPrecisionBits << 8)) return 255;
  if (in < 0) return 0;
  return uint8_t(in >> kPrecisionBits);
}

// Horizontal pass over rows [row0, row0 + rows) of `in` into an image of width out_w.
Image resample_horizontal(const Image& in, int64_t row0, int64_t rows, int64_t out_w, const Coeffs& c) {
  Image out;
  out.width = out_w;
  out.height = rows;
  out.rgb.resize(size_t(out_w * rows * 3));
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* src = in.rgb.data() + size_t((y + row0) * in.width * 3);
    uint8_t* dst = out.rgb.data() + size_t(y * out_w * 3);
    for (int64_t xx = 0; xx < out_w; ++xx) {
      const int xmin = c.bounds[xx * 2], n = c.bounds[xx * 2 + 1];
      const int32_t* k = &c.k[size_t(xx) * c.ksize];
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int x = 0; x < n; ++x) {
        const uint8_t* p = src + size_t(x + xmin) * 3;
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      dst[xx * 3] = clip8(s0), dst[xx * 3 + 1] = clip8(s1), dst[xx * 3 + 2] = clip8(s2);
    }
  }
  return out;
}

// Vertical pass; `shift` is subtracted from the bounds (rows skipped earlier).
Image resample_vertical(const Image& in, int64_t out_h, const Coeffs& c, int shift) {
  Image out;
  out.width = in.width;
  out.height = out_h;
  out.rgb.resize(size_t(in.width * out_h * 3));
  const size_t stride = size_t(in.width) * 3;
  for (int64_t yy = 0; yy < out_h; ++yy) {
    const int ymin = c.bounds[yy * 2] - shift, n = c.bounds[yy * 2 + 1];
    const int32_t* k = &c.k[size_t(yy) * c.ksize];
    uint8_t* dst = out.rgb.data() + size_t(yy) * stride;
    for (size_t i = 0; i < stride; ++i) {
      int32_t s = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < n; ++y) s += in.rgb[size_t(y + ymin) * stride + i] * k[y];
      dst[i] = clip8(s);
    }
  }
  return out;
}

// ImagingScaleAffine with nearest sampling: source = floor of an accumulated
// double coordinate starting at half a step.
Image resize_nearest(const Image& in, int64_t out_w, int64_t out_h) {
  const double ax = double(in.width) / double(out_w), ay = double(in.height) / double(out_h);
  std::vector<int64_t> xs(out_w);
  double xo = ax * 0.5;
  for (int64_t x = 0; x < out_w; ++x, xo += ax) {
    int64_t xi = xo < 0.0 ? -1 : int64_t(xo);
    xs[x] = xi < 0 ? 0 : xi >= in.width ? in.width - 1 : xi;
  }
  Image out;
  out.width = out_w;
  out.height = out_h;
  out.rgb.resize(size_t(out_w * out_h * 3));
  double yo = ay * 0.5;
  for (int64_t y = 0; y < out_h; ++y, yo += ay) {
    int64_t yi = yo < 0.0 ? -1 : int64_t(yo);
    yi = yi < 0 ? 0 : yi >= in.height ? in.height - 1 : yi;
    for (int64_t x = 0; x < out_w; ++x)
      for (int ch = 0; ch < 3; ++ch) out.rgb[size_t((y * out_w + x) * 3 + ch)] = in.at(yi, xs[x], ch);
  }
  return out;
}

}  // namespace

Resample resample_from_code(int64_t code, const std::string& what) {
  IA_CHECK(code >= 0 && code <= 5, what, ": unknown resample code ", code,
           " (PIL codes: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)");
  return Resample(int(code));
}

Image pil_resize(const Image& in, int64_t out_w, int64_t out_h, Resample filter) {
  IA_CHECK(in.width > 0 && in.height > 0 && in.rgb.size() == size_t(in.width * in.height * 3),
           "pil_resize: invalid input image ", in.width, "x", in.height);
  IA_CHECK(out_w > 0 && out_h > 0, "pil_resize: invalid output size ", out_w, "x", out_h);
  IA_CHECK(out_w * out_h <= kMaxImagePixels, "pil_resize: output size ", out_w, "x", out_h, " is too large");
  if (out_w == in.width && out_h == in.height) return in;  // Image.resize returns a copy
  if (filter == Resample::Nearest) return resize_nearest(in, out_w, out_h);

  const Filter f = filter_for(filter);
  const bool need_h = out_w != in.width, need_v = out_h != in.height;
  const Coeffs ch = precompute(in.width, 0.0, double(in.width), out_w, f);
  const Coeffs cv = precompute(in.height, 0.0, double(in.height), out_h, f);
  // Only the rows the vertical pass reads are resampled horizontally.
  const int ybox_first = cv.bounds[0];
  const int ybox_last = cv.bounds[size_t(out_h) * 2 - 2] + cv.bounds[size_t(out_h) * 2 - 1];
  Image cur;
  const Image* src = &in;
  int shift = 0;
  if (need_h) {
    cur = resample_horizontal(in, ybox_first, ybox_last - ybox_first, out_w, ch);
    src = &cur;
    shift = ybox_first;
  }
  if (need_v) return resample_vertical(*src, out_h, cv, shift);
  return cur;
}

}  // namespace ia
