// Sample-rate conversion as torchaudio.functional.resample does it by default
// (windowed sinc, Hann window, lowpass_filter_width 6, rolloff 0.99, kernel
// computed in float32): what transformers documents for raw audio at another
// rate (the ASR pipeline resamples {"raw", "sampling_rate"} inputs this way).
#pragma once
#include "preprocess/audio.h"

namespace ia {

// Mono or multi-channel (each channel resampled); returns `a` itself when the rate matches.
Audio resample_audio(const Audio& a, int new_rate);

}  // namespace ia
