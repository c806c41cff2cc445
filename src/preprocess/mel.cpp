#include "preprocess/mel.h"

#include <cmath>

#include "core/error.h"

namespace ia {

double hertz_to_mel(double hz, MelScale scale) {
  switch (scale) {
    case MelScale::HTK: return 2595.0 * std::log10(1.0 + hz / 700.0);
    case MelScale::Kaldi: return 1127.0 * std::log(1.0 + hz / 700.0);
    case MelScale::Slaney: {
      const double min_log_hertz = 1000.0, min_log_mel = 15.0, logstep = 27.0 / std::log(6.4);
      if (hz >= min_log_hertz) return min_log_mel + std::log(hz / min_log_hertz) * logstep;
      return 3.0 * hz / 200.0;
    }
  }
  return 0.0;
}

double mel_to_hertz(double mel, MelScale scale) {
  switch (scale) {
    case MelScale::HTK: return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    case MelScale::Kaldi: return 700.0 * (std::exp(mel / 1127.0) - 1.0);
    case MelScale::Slaney: {
      const double min_log_hertz = 1000.0, min_log_mel = 15.0, logstep = std::log(6.4) / 27.0;
      if (mel >= min_log_mel) return min_log_hertz * std::exp(logstep * (mel - min_log_mel));
      return 200.0 * mel / 3.0;
    }
  }
  return 0.0;
}

namespace {

// numpy.linspace(start, stop, num): start + i * step, last element exactly stop.
std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> v(static_cast<size_t>(num));
  const double step = num > 1 ? (stop - start) / double(num - 1) : 0.0;
  for (int i = 0; i < num; ++i) v[size_t(i)] = double(i) * step + start;
  if (num > 1) v[size_t(num - 1)] = stop;
  return v;
}

}  // namespace

std::vector<double> mel_filter_bank(int num_frequency_bins, int num_mel_filters, double min_frequency,
                                    double max_frequency, int sampling_rate, const std::string& norm, MelScale scale) {
  IA_CHECK(num_frequency_bins >= 2 && num_mel_filters >= 1 && num_mel_filters <= 4096, "mel_filter_bank: invalid sizes ",
           num_frequency_bins, " x ", num_mel_filters);
  IA_CHECK(norm.empty() || norm == "slaney", "mel_filter_bank: norm must be None or 'slaney', got '", norm, "'");
  const double mel_min = hertz_to_mel(min_frequency, scale), mel_max = hertz_to_mel(max_frequency, scale);
  const std::vector<double> mel_freqs = linspace(mel_min, mel_max, num_mel_filters + 2);
  std::vector<double> filter_freqs(mel_freqs.size());
  for (size_t i = 0; i < mel_freqs.size(); ++i) filter_freqs[i] = mel_to_hertz(mel_freqs[i], scale);
  const std::vector<double> fft_freqs = linspace(0.0, double(sampling_rate / 2), num_frequency_bins);
  std::vector<double> fb(size_t(num_frequency_bins) * size_t(num_mel_filters));
  for (int f = 0; f < num_frequency_bins; ++f) {
    for (int m = 0; m < num_mel_filters; ++m) {
      // _create_triangular_filter_bank: max(0, min(down, up)) with slopes = filter - fft freq.
      const double down = -(filter_freqs[size_t(m)] - fft_freqs[size_t(f)]) /
                          (filter_freqs[size_t(m) + 1] - filter_freqs[size_t(m)]);
      const double up = (filter_freqs[size_t(m) + 2] - fft_freqs[size_t(f)]) /
                        (filter_freqs[size_t(m) + 2] - filter_freqs[size_t(m) + 1]);
      double v = std::max(0.0, std::min(down, up));
      if (norm == "slaney") v *= 2.0 / (filter_freqs[size_t(m) + 2] - filter_freqs[size_t(m)]);
      fb[size_t(f) * num_mel_filters + m] = v;
    }
  }
  return fb;
}

std::vector<double> hann_window_periodic(int n) {
  std::vector<double> w(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) w[size_t(i)] = 0.5 - 0.5 * std::cos(2.0 * M_PI * double(i) / double(n));
  return w;
}

}  // namespace ia
