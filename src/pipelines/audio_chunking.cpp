// Overlapping audio windows (see audio_chunking.h).
#include "pipelines/audio_chunking.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ia {

AudioChunking audio_chunking(double chunk_s, double stride_left_s, double stride_right_s, int sampling_rate,
                             int64_t align_to) {
  IA_CHECK(std::isfinite(chunk_s) && chunk_s > 0 && chunk_s < 1e6, "audio chunking: chunk length must be a positive "
                                                                   "number of seconds, got ", chunk_s);
  IA_CHECK(std::isfinite(stride_left_s) && std::isfinite(stride_right_s) && stride_left_s >= 0 && stride_right_s >= 0,
           "audio chunking: stride lengths must be non-negative seconds");
  IA_CHECK(sampling_rate > 0 && align_to > 0, "audio chunking: bad sampling rate or alignment");
  // Python's round(): half to even, as std::nearbyint in the default rounding mode.
  auto samples = [&](double s) { return int64_t(std::nearbyint(s * sampling_rate / double(align_to))) * align_to; };
  AudioChunking c{samples(chunk_s), samples(stride_left_s), samples(stride_right_s)};
  IA_CHECK(c.chunk_len > c.stride_left + c.stride_right, "audio chunking: the chunk length (", chunk_s,
           " s) must be longer than the two strides together (", stride_left_s, " s + ", stride_right_s, " s)");
  return c;
}

std::vector<AudioWindow> audio_windows(int64_t n, const AudioChunking& c) {
  IA_CHECK(c.chunk_len > c.stride_left + c.stride_right && c.stride_left >= 0 && c.stride_right >= 0,
           "audio chunking: the chunk must be longer than its strides");
  const int64_t step = c.chunk_len - c.stride_left - c.stride_right;
  std::vector<AudioWindow> out;
  for (int64_t start = 0; start < n; start += step) {
    const int64_t end = start + c.chunk_len;
    AudioWindow w;
    w.start = start;
    w.end = std::min(end, n);
    w.stride_left = start == 0 ? 0 : c.stride_left;
    w.is_last = end >= n;
    w.stride_right = w.is_last ? 0 : c.stride_right;
    if (w.end - w.start > w.stride_left) out.push_back(w);
    if (w.is_last) break;
  }
  return out;
}

}  // namespace ia
