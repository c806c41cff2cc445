#include "backends/cpu/team_balance.h"

#include <algorithm>
#include <cmath>

namespace ia::cpu {

void TeamBalance::reset(int threads) { share_.assign(size_t(std::max(threads, 1)), 1.0 / std::max(threads, 1)); }

void TeamBalance::set_shares(const std::vector<double>& shares) {
  share_ = shares;
  if (share_.empty()) share_.assign(1, 1.0);
  clamp_and_normalise();
}

void TeamBalance::clamp_and_normalise() {
  const double even = 1.0 / double(share_.size());
  double total = 0;
  for (double& s : share_) total += std::isfinite(s) && s > 0 ? s : 0;
  for (double& s : share_) s = total > 0 && std::isfinite(s) && s > 0 ? s / total : 0;
  // Clamping then normalising twice keeps every share inside the bounds up to rounding.
  for (int pass = 0; pass < 2; ++pass) {
    double sum = 0;
    for (double& s : share_) {
      if (!std::isfinite(s)) s = even;
      s = std::clamp(s, kMinShare * even, kMaxShare * even);
      sum += s;
    }
    for (double& s : share_) s /= sum;
  }
}

void TeamBalance::split(int64_t total, int t, int64_t* c0, int64_t* c1) const {
  const int T = threads();
  double before = 0;
  for (int u = 0; u < t; ++u) before += share_[size_t(u)];
  auto boundary = [&](double frac) { return int64_t(std::llround(double(total) * frac)) & ~int64_t(15); };
  *c0 = t == 0 ? 0 : boundary(before);
  *c1 = t == T - 1 ? total : boundary(before + share_[size_t(t)]);
  *c0 = std::min(*c0, total);
  *c1 = std::max(*c0, std::min(*c1, total));
}

void TeamBalance::update(const double* busy) {
  if (!adapt_ || share_.size() < 2) return;
  std::vector<double> speed(share_.size());
  double sum = 0;
  for (size_t t = 0; t < share_.size(); ++t) {
    if (!(busy[t] > 0) || !std::isfinite(busy[t])) return;  // no usable timing this step
    speed[t] = share_[t] / busy[t];
    sum += speed[t];
  }
  for (size_t t = 0; t < share_.size(); ++t)
    share_[t] += std::clamp(kGain * (speed[t] / sum - share_[t]), -kMaxStep, kMaxStep);
  clamp_and_normalise();
}

}  // namespace ia::cpu
