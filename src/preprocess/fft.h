// A small double-precision complex FFT for any length (mixed radix over the
// length's prime factors, direct DFT for a large prime factor). Used for the
// STFT of log-mel features (n_fft = 400 for Whisper), where double precision
// keeps the engine closer to the exact spectrum than float32 FFTs are.
#pragma once
#include <complex>
#include <vector>

namespace ia {

class FFT {
 public:
  explicit FFT(int n);
  int size() const { return n_; }
  // out[k] = sum_j in[j] * exp(-2 pi i j k / n); `in` and `out` must not alias.
  void forward(const std::complex<double>* in, std::complex<double>* out) const;

 private:
  void recurse(const std::complex<double>* in, std::complex<double>* out, int n, int stride, size_t factor_idx) const;
  int n_;
  std::vector<int> factors_;
  std::vector<std::complex<double>> twiddle_;  // exp(-2 pi i k / n), k < n
};

}  // namespace ia
