#include "pipelines/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "core/error.h"

namespace ia {

namespace {
constexpr float kRemoved = -INFINITY;

// Indices sorted by descending logit; ties keep the lower index first (stable) like torch.sort(stable).
void sorted_desc(const float* logits, int64_t vocab, std::vector<int64_t>& order) {
  order.resize(size_t(vocab));
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
}

void softmax_into(const float* logits, int64_t vocab, std::vector<float>& probs) {
  probs.resize(size_t(vocab));
  float mx = *std::max_element(logits, logits + vocab);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    probs[size_t(i)] = mx == -INFINITY ? 0.f : std::exp(logits[i] - mx);
    sum += probs[size_t(i)];
  }
  for (auto& p : probs) p = sum > 0 ? float(p / sum) : 0.f;
}
}  // namespace

void apply_repetition_penalty(float* logits, int64_t vocab, const std::vector<int64_t>& context, float penalty) {
  if (penalty == 1.f) return;
  IA_CHECK(penalty > 0.f, "repetition_penalty must be > 0 (got ", penalty, ")");
  std::unordered_set<int64_t> seen;
  for (int64_t t : context) {
    if (t < 0 || t >= vocab || !seen.insert(t).second) continue;
    float& s = logits[t];
    s = s < 0 ? s * penalty : s / penalty;
  }
}

void apply_top_k(float* logits, int64_t vocab, int64_t k) {
  if (k <= 0 || k >= vocab) return;
  std::vector<float> tmp(logits, logits + vocab);
  std::nth_element(tmp.begin(), tmp.begin() + (k - 1), tmp.end(), std::greater<float>());
  float kth = tmp[size_t(k - 1)];
  for (int64_t i = 0; i < vocab; ++i)
    if (logits[i] < kth) logits[i] = kRemoved;
}

void apply_top_p(float* logits, int64_t vocab, float top_p) {
  if (top_p >= 1.f) return;
  IA_CHECK(top_p >= 0.f, "top_p must be in [0, 1] (got ", top_p, ")");
  std::vector<int64_t> order;
  std::vector<float> probs;
  sorted_desc(logits, vocab, order);
  softmax_into(logits, vocab, probs);
  // A token survives while the probability mass ranked above it is below top_p (always keep the best one).
  double above = 0;
  for (size_t r = 0; r < order.size(); ++r) {
    int64_t i = order[r];
    if (r > 0 && above >= top_p) logits[i] = kRemoved;
    above += probs[size_t(i)];
  }
}

void apply_min_p(float* logits, int64_t vocab, float min_p) {
  if (min_p <= 0.f) return;
  std::vector<float> probs;
  softmax_into(logits, vocab, probs);
  float top = *std::max_element(probs.begin(), probs.end());
  int64_t best = argmax(logits, vocab);
  for (int64_t i = 0; i < vocab; ++i)
    if (i != best && probs[size_t(i)] < min_p * top) logits[i] = kRemoved;
}

int64_t argmax(const float* logits, int64_t vocab) {
  IA_CHECK(vocab > 0, "argmax over an empty vocabulary");
  int64_t best = 0;
  for (int64_t i = 1; i < vocab; ++i)
    if (logits[i] > logits[best]) best = i;  // first maximum wins, as torch.argmax
  return best;
}

Sampler::Sampler(SamplingParams p) : p_(p), rng_(p.seed) {
  IA_CHECK(!p_.do_sample || p_.temperature > 0.f, "temperature must be > 0 when sampling (got ", p_.temperature, ")");
}

int64_t Sampler::next(float* logits, int64_t vocab, const std::vector<int64_t>& context) {
  apply_repetition_penalty(logits, vocab, context, p_.repetition_penalty);
  if (!p_.do_sample) return argmax(logits, vocab);
  if (p_.temperature != 1.f)
    for (int64_t i = 0; i < vocab; ++i) logits[i] /= p_.temperature;
  apply_top_k(logits, vocab, p_.top_k);
  apply_top_p(logits, vocab, p_.top_p);
  apply_min_p(logits, vocab, p_.min_p);
  softmax_into(logits, vocab, probs_);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double r = u(rng_), acc = 0;
  int64_t last = argmax(logits, vocab);
  for (int64_t i = 0; i < vocab; ++i) {
    if (probs_[size_t(i)] <= 0.f) continue;
    acc += probs_[size_t(i)];
    last = i;
    if (r < acc) return i;
  }
  return last;
}

}  // namespace ia
