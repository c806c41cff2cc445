#include "preprocess/fft.h"

#include <cmath>

#include "core/error.h"

namespace ia {

FFT::FFT(int n) : n_(n) {
  IA_CHECK(n >= 1 && n <= (1 << 24), "FFT: invalid length ", n);
  int m = n;
  for (int p : {4, 2, 3, 5}) while (m % p == 0) factors_.push_back(p), m /= p;
  for (int p = 7; p * p <= m; p += 2) while (m % p == 0) factors_.push_back(p), m /= p;
  if (m > 1) factors_.push_back(m);
  twiddle_.resize(size_t(n));
  for (int k = 0; k < n; ++k) {
    const double a = -2.0 * M_PI * double(k) / double(n);
    twiddle_[size_t(k)] = {std::cos(a), std::sin(a)};
  }
}

// Decimation in time: n = p * m; transform the p interleaved sub-sequences of
// length m, then combine with radix-p butterflies.
void FFT::recurse(const std::complex<double>* in, std::complex<double>* out, int n, int stride,
                  size_t fi) const {
  if (n == 1) {
    out[0] = in[0];
    return;
  }
  const int p = factors_[fi], m = n / p;
  for (int r = 0; r < p; ++r) recurse(in + r * stride, out + r * m, m, stride * p, fi + 1);
  // Twiddles of this level: exp(-2 pi i k / n) = twiddle_[k * (n_ / n)].
  const int tw_step = n_ / n;
  std::complex<double> tmp[64];
  std::vector<std::complex<double>> big;
  std::complex<double>* t = tmp;
  if (p > 64) {
    big.resize(size_t(p));
    t = big.data();
  }
  for (int k = 0; k < m; ++k) {
    for (int r = 0; r < p; ++r) t[r] = out[r * m + k] * twiddle_[size_t((r * k * tw_step) % n_)];
    for (int q = 0; q < p; ++q) {
      std::complex<double> s = 0.0;
      // exp(-2 pi i r q / p) = twiddle_[(r * q % p) * (n_ / p)]
      for (int r = 0; r < p; ++r) s += t[r] * twiddle_[size_t(((r * q) % p) * (n_ / p))];
      out[q * m + k] = s;
    }
  }
}

void FFT::forward(const std::complex<double>* in, std::complex<double>* out) const { recurse(in, out, n_, 1, 0); }

}  // namespace ia
