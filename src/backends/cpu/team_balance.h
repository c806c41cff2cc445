// Column shares of a team of threads that splits every [out, in] projection of a decode
// step by output columns (decoder_team_step.cpp). On a shared VM one core is often
// slower than the other for minutes at a time (measured here: one thread of two 15-30%
// slower, so the other spent up to a quarter of each step waiting at barriers). After
// every step the shares move toward each thread's measured speed, so both reach the
// barriers together. A column is still computed whole by one thread with the same
// kernel, so the results do not depend on the shares.
#pragma once
#include <cstdint>
#include <vector>

namespace ia::cpu {

class TeamBalance {
 public:
  // Even shares for a team of `threads`; adapt() decides whether update() moves them.
  void reset(int threads);
  int threads() const { return int(share_.size()); }
  const std::vector<double>& shares() const { return share_; }
  // Fixed shares (normalised; each kept within [kMinShare, kMaxShare] of an even share).
  void set_shares(const std::vector<double>& shares);
  void set_adapt(bool on) { adapt_ = on; }
  // Thread t's columns [*c0, *c1) of `total`: boundaries on 16-column (64-byte) steps
  // like split_cols(), covering [0, total) in thread order.
  void split(int64_t total, int t, int64_t* c0, int64_t* c1) const;
  // After a step: busy[t] = time thread t worked (the step minus its barrier waits).
  // Each share moves part of the way toward share / busy (normalised), at most
  // kMaxStep per step, so one descheduled step does not swing the split.
  void update(const double* busy);

  static constexpr double kMinShare = 0.5, kMaxShare = 1.5;  // times an even share
  static constexpr double kGain = 0.3, kMaxStep = 0.02;

 private:
  void clamp_and_normalise();
  std::vector<double> share_;
  bool adapt_ = true;
};

}  // namespace ia::cpu
