#include "preprocess/resample_audio.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace ia {

namespace {

constexpr int kLowpassWidth = 6;
constexpr double kRolloff = 0.99;

// One tap of torchaudio's _get_sinc_resample_kernel (dtype float32): phase j
// of `nw`, tap i of 2 * width + orig, with torchaudio's float32 operation order.
struct SincKernel {
  int64_t orig = 0, nw = 0, width = 0, taps = 0;
  float base_f = 0, scale_f = 0;
  std::vector<float> table;  // [nw][taps] when small enough to precompute

  SincKernel(int64_t o, int64_t n) : orig(o), nw(n) {
    const double base = double(std::min(orig, nw)) * kRolloff;
    width = int64_t(std::ceil(double(kLowpassWidth) * double(orig) / base));
    taps = 2 * width + orig;
    base_f = float(base);
    scale_f = float(base / double(orig));
    // Odd rate pairs (e.g. 44101 -> 16000) give huge tables; those taps are computed as needed.
    if (nw * taps <= (int64_t(1) << 22)) {
      table.resize(size_t(nw * taps));
      for (int64_t j = 0; j < nw; ++j)
        for (int64_t i = 0; i < taps; ++i) table[size_t(j * taps + i)] = compute(j, i);
    }
  }
  float compute(int64_t j, int64_t i) const {
    const float pi_f = float(M_PI);
    const float shift = float(-j) / float(nw);
    const float idx = float(i - width) / float(orig);
    float t = (shift + idx) * base_f;
    t = std::min(std::max(t, -float(kLowpassWidth)), float(kLowpassWidth));
    const float c = std::cos(t * pi_f / float(kLowpassWidth) / 2.0f);
    const float window = c * c;
    t *= pi_f;
    const float sinc = t == 0.0f ? 1.0f : std::sin(t) / t;
    return sinc * (window * scale_f);
  }
  float at(int64_t j, int64_t i) const { return table.empty() ? compute(j, i) : table[size_t(j * taps + i)]; }
};

}  // namespace

Audio resample_audio(const Audio& a, int new_rate) {
  IA_CHECK(a.sample_rate > 0 && new_rate > 0, "resample_audio: invalid rates ", a.sample_rate, " -> ", new_rate);
  IA_CHECK(a.channels >= 1 && a.samples.size() == size_t(a.frames) * size_t(a.channels),
           "resample_audio: invalid audio buffer");
  if (a.sample_rate == new_rate) return a;
  const int64_t g = std::gcd(int64_t(a.sample_rate), int64_t(new_rate));
  const int64_t orig = a.sample_rate / g, nw = new_rate / g;
  const int64_t len = a.frames;
  const int64_t target = int64_t(std::ceil(double(nw) * double(len) / double(orig)));
  IA_CHECK(double(target) * double(a.channels) <= double(kMaxAudioSamples), "resample_audio: ", len, " frames at ",
           a.sample_rate, " Hz would become ", target, " frames at ", new_rate, " Hz, more than supported");
  const SincKernel kernel(orig, nw);
  const int64_t width = kernel.width, taps = kernel.taps;
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
      double s = 0.0;
      const int64_t start = blk * orig - width;  // signal index of tap 0
      // Taps outside [centre - width, centre + width] have |t| clamped to the window's edge, where
      // the Hann window is cos(pi/2)^2 ~ 2e-15: skipping them changes nothing measurable and
      // makes the cost independent of the rate ratio.
      const int64_t centre = (orig * phase) / nw;
      const int64_t i0 = std::max({int64_t(0), -start, centre - 1}),
                    i1 = std::min({taps, len - start, centre + 2 * width + 2});
      for (int64_t i = i0; i < i1; ++i) s += double(kernel.at(phase, i)) * double(a.samples[size_t((start + i) * a.channels + c)]);
      out.samples[size_t(o * a.channels + c)] = float(s);
    }
  }
  return out;
}

}  // namespace ia
