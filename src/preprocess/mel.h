// transformers.audio_utils: mel scales and mel_filter_bank (float64, as numpy
// computes it), window functions.
#pragma once
#include <string>
#include <vector>

namespace ia {

enum class MelScale { HTK, Slaney, Kaldi };

double hertz_to_mel(double hz, MelScale scale);
double mel_to_hertz(double mel, MelScale scale);

// [num_frequency_bins][num_mel_filters], row-major. norm: "" or "slaney".
std::vector<double> mel_filter_bank(int num_frequency_bins, int num_mel_filters, double min_frequency,
                                    double max_frequency, int sampling_rate, const std::string& norm, MelScale scale);

// Periodic Hann window of length n (torch.hann_window(n), periodic=True).
std::vector<double> hann_window_periodic(int n);

}  // namespace ia
