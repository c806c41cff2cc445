// libFuzzer target: any byte string handed to the WAV decoder must either decode
// into consistent float samples (then survive down-mixing and resampling to
// 16 kHz) or raise ia::Error.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "preprocess/audio.h"
#include "preprocess/resample_audio.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const ia::Audio a = ia::decode_wav_bytes(data, size, "fuzz.wav");
    if (a.channels < 1 || a.sample_rate < 1 || a.samples.size() != size_t(a.frames) * size_t(a.channels))
      __builtin_trap();
    const ia::Audio m = ia::downmix_to_mono(a);
    // Keep resampling cheap: only short clips at modest rate ratios.
    if (m.frames <= 4096 && m.sample_rate <= 96000) {
      const ia::Audio r = ia::resample_audio(m, 16000);
      if (r.channels != 1 || r.samples.size() != size_t(r.frames)) __builtin_trap();
    }
  } catch (const ia::Error&) {
  }
  return 0;
}
