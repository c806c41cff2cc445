#include "parts/nchw_layout.h"

#include <cstring>

#include "core/error.h"

namespace ia {

Tensor nchw_to_tokens(const Tensor& x) {
  IA_CHECK(x.rank() == 4, "nchw_to_tokens: input ", shape_str(x.shape()), " must be [B, C, H, W]");
  const int64_t B = x.dim(0), C = x.dim(1), P = x.dim(2) * x.dim(3);
  Tensor t = Tensor::f32({B, P, C});
  const float* xd = x.f32();
  float* td = t.f32();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const float* src = xd + (b * C + c) * P;
      float* dst = td + b * P * C + c;
      for (int64_t p = 0; p < P; ++p) dst[p * C] = src[p];
    }
  return t;
}

Tensor tokens_to_nchw(const Tensor& t, int64_t h, int64_t w) {
  IA_CHECK(t.rank() == 3 && t.dim(1) == h * w, "tokens_to_nchw: input ", shape_str(t.shape()), " must be [B, ",
           h * w, ", C]");
  const int64_t B = t.dim(0), P = h * w, C = t.dim(2);
  Tensor x = Tensor::f32({B, C, h, w});
  const float* td = t.f32();
  float* xd = x.f32();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = 0; p < P; ++p) {
      const float* src = td + (b * P + p) * C;
      float* dst = xd + b * C * P + p;
      for (int64_t c = 0; c < C; ++c) dst[c * P] = src[c];
    }
  return x;
}

Tensor concat_channels(const Tensor& a, const Tensor& b) {
  IA_CHECK(a.rank() == 4 && b.rank() == 4 && a.dim(0) == b.dim(0) && a.dim(2) == b.dim(2) && a.dim(3) == b.dim(3),
           "concat_channels: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()), " differ outside dim 1");
  const int64_t B = a.dim(0), Ca = a.dim(1), Cb = b.dim(1), P = a.dim(2) * a.dim(3);
  Tensor y = Tensor::f32({B, Ca + Cb, a.dim(2), a.dim(3)});
  for (int64_t i = 0; i < B; ++i) {
    std::memcpy(y.f32() + i * (Ca + Cb) * P, a.f32() + i * Ca * P, size_t(Ca * P) * sizeof(float));
    std::memcpy(y.f32() + (i * (Ca + Cb) + Ca) * P, b.f32() + i * Cb * P, size_t(Cb * P) * sizeof(float));
  }
  return y;
}

}  // namespace ia
