// Cutting long audio into overlapping windows, as the transformers 4.44.2 ASR
// pipeline does for chunk_length_s / stride_length_s (chunk_iter): windows of
// chunk_len samples advancing by chunk_len - stride_left - stride_right; the
// first window has no left stride, the last no right stride, and a window no
// longer than its left stride is dropped.
#pragma once
#include <cstdint>
#include <vector>

namespace ia {

struct AudioChunking {
  int64_t chunk_len = 0, stride_left = 0, stride_right = 0;  // samples
};

// Seconds to samples, rounded to multiples of align_to (wav2vec2: inputs_to_logits_ratio).
AudioChunking audio_chunking(double chunk_s, double stride_left_s, double stride_right_s, int sampling_rate,
                             int64_t align_to = 1);

struct AudioWindow {
  int64_t start = 0, end = 0;                   // samples [start, end)
  int64_t stride_left = 0, stride_right = 0;    // overlap with the neighbours, samples
  bool is_last = false;
};

std::vector<AudioWindow> audio_windows(int64_t num_samples, const AudioChunking& c);

}  // namespace ia
