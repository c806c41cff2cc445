#include "parts/causal_conv1d.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace ia {

CausalConv1d CausalConv1d::load(const Weights& w, int64_t channels, int64_t kernel, bool bias) {
  IA_CHECK(kernel >= 1, w.full("weight"), ": conv kernel must be >= 1, got ", kernel);
  CausalConv1d c;
  c.channels = channels;
  c.kernel = kernel;
  Tensor wt = w.get("weight", {channels, 1, kernel});
  c.weight_t = Tensor::f32({kernel, channels});
  for (int64_t ch = 0; ch < channels; ++ch)
    for (int64_t j = 0; j < kernel; ++j) c.weight_t.f32()[j * channels + ch] = wt.f32()[ch * kernel + j];
  if (bias) c.bias = w.get("bias", {channels});
  return c;
}

void CausalConv1d::forward(const float* x, int64_t ld_x, int64_t T, float* state, float* y) const {
  const int64_t C = channels, K = kernel, S = K - 1;
  const float* w = weight_t.f32();
  for (int64_t t = 0; t < T; ++t) {
    float* yt = y + t * C;
    if (bias.defined()) std::memcpy(yt, bias.f32(), size_t(C) * 4);
    else std::fill(yt, yt + C, 0.f);
    for (int64_t j = 0; j < K; ++j) {
      const int64_t idx = t - S + j;  // input time of tap j; < 0 reads the carried window
      const float* src = idx >= 0 ? x + idx * ld_x : state + (S + idx) * C;
      const float* wj = w + j * C;
      for (int64_t c = 0; c < C; ++c) yt[c] += wj[c] * src[c];
    }
  }
  if (S == 0) return;
  // Keep the last S inputs of (window ++ x).
  if (T >= S) {
    for (int64_t i = 0; i < S; ++i) std::memcpy(state + i * C, x + (T - S + i) * ld_x, size_t(C) * 4);
  } else {
    std::memmove(state, state + T * C, size_t((S - T) * C) * 4);
    for (int64_t i = 0; i < T; ++i) std::memcpy(state + (S - T + i) * C, x + i * ld_x, size_t(C) * 4);
  }
}

}  // namespace ia
