// Decoded audio: interleaved float samples in [-1, 1] at the file's rate, and
// the conversions the audio pipelines may apply before feature extraction
// (down-mixing, torchaudio-style resampling; see resample_audio.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ia {

struct Audio {
  int sample_rate = 0;
  int channels = 0;
  int64_t frames = 0;
  std::vector<float> samples;  // frames * channels, interleaved
};

// WAV (RIFF/WAVE): PCM 8 (unsigned), 16, 24, 32-bit integer, IEEE float 32/64,
// plain or WAVE_FORMAT_EXTENSIBLE. Integers are scaled by 1 / 2^(bits-1) (int16 / 32768,
// as soundfile and the fixtures do). Anything else -> ia::Error naming the source.
Audio decode_wav_file(const std::string& path);
Audio decode_wav_bytes(const uint8_t* data, size_t n, const std::string& what);

// Channels averaged to one ((L + R) / 2 for stereo, in float32 as numpy's mean does).
Audio downmix_to_mono(const Audio& a);

// Largest WAV accepted (frames * channels), about 3 hours of 48 kHz stereo.
constexpr int64_t kMaxAudioSamples = int64_t(1) << 30;

}  // namespace ia
