#include "preprocess/resample_audio.h"

#include <cmath>
#include <numeric>

#include "core/error.h"

namespace ia {

namespace {

constexpr int kLowpassWidth = 6;
constexpr double kRolloff = 0.99;

// torchaudio's _get_sinc_resample_kernel with dtype float32: [new][2 * width + orig].
std::vector<float> sinc_kernel(int64_t orig, int64_t nw, int64_t* width_out) {
  const double base = double(std::min(orig, nw)) * kRolloff;
  const int64_t width = int64_t(std::ceil(double(kLowpassWidth) * double(orig) / base));
  const int64_t taps = 2 * width + orig;
  const float base_f = float(base), scale_f = float(base / double(orig));
  const float pi_f = float(M_PI);
  std::vector<float> k(size_t(nw * taps));
  for (int64_t j = 0; j < nw; ++j) {
    const float shift = float(-j) / float(nw);
    for (int64_t i = 0; i < taps; ++i) {
      const float idx = float(i - width) / float(orig);
      float t = (shift + idx) * base_f;
      t = std::min(std::max(t, -float(kLowpassWidth)), float(kLowpassWidth));
      const float c = std::cos(t * pi_f / float(kLowpassWidth) / 2.0f);
      const float window = c * c;
      t *= pi_f;
      const float sinc = t == 0.0f ? 1.0f : std::sin(t) / t;
      k[size_t(j * taps + i)] = sinc * (window * scale_f);
    }
  }
  *width_out = width;
  return k;
}

}  // namespace

Audio resample_audio(const Audio& a, int new_rate) {
  IA_CHECK(a.sample_rate > 0 && new_rate > 0, "resample_audio: invalid rates ", a.sample_rate, " -> ", new_rate);
  IA_CHECK(a.channels >= 1 && a.samples.size() == size_t(a.frames) * size_t(a.channels),
           "resample_audio: invalid audio buffer");
  if (a.sample_rate == new_rate) return a;
  const int64_t g = std::gcd(int64_t(a.sample_rate), int64_t(new_rate));
  const int64_t orig = a.sample_rate / g, nw = new_rate / g;
  IA_CHECK(orig <= 100000 && nw <= 100000, "resample_audio: rate ratio ", a.sample_rate, ":", new_rate,
           " is too fine-grained");
  int64_t width = 0;
  const std::vector<float> kernel = sinc_kernel(orig, nw, &width);
  const int64_t taps = 2 * width + orig;
  const int64_t len = a.frames;
  const int64_t target = int64_t(std::ceil(double(nw) * double(len) / double(orig)));
  // conv1d over the signal padded with `width` zeros before and width + orig after, stride orig.
  const int64_t padded = len + 2 * width + orig;
  const int64_t blocks = padded >= taps ? (padded - taps) / orig + 1 : 0;
  const int64_t out_len = std::min(target, blocks * nw);
  Audio out;
  out.sample_rate = new_rate;
  out.channels = a.channels;
  out.frames = out_len;
  out.samples.assign(size_t(out_len) * a.channels, 0.0f);
  for (int c = 0; c < a.channels; ++c) {
    for (int64_t o = 0; o < out_len; ++o) {
      const int64_t blk = o / nw, phase = o % nw;
      const float* kk = &kernel[size_t(phase * taps)];
      double s = 0.0;
      const int64_t start = blk * orig - width;  // signal index of tap 0
      const int64_t i0 = std::max<int64_t>(0, -start), i1 = std::min<int64_t>(taps, len - start);
      for (int64_t i = i0; i < i1; ++i) s += double(kk[i]) * double(a.samples[size_t((start + i) * a.channels + c)]);
      out.samples[size_t(o * a.channels + c)] = float(s);
    }
  }
  return out;
}

}  // namespace ia
