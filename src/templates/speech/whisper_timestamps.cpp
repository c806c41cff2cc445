// Whisper timestamp rules (see whisper_timestamps.h).
#include "templates/speech/whisper_timestamps.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace ia {

void WhisperTimestampRules::apply(float* scores, int64_t V, const int64_t* ids, int64_t cur_len) const {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int64_t tb = timestamp_begin();
  IA_CHECK(no_timestamps_id >= 0 && no_timestamps_id < V && eos_id >= 0 && eos_id <= V, "whisper: timestamp tokens (",
           no_timestamps_id, ") or EOS (", eos_id, ") outside the vocabulary (", V, ")");
  auto mask = [&](int64_t from, int64_t to) {
    for (int64_t j = std::max<int64_t>(from, 0); j < std::min(to, V); ++j) scores[j] = kNegInf;
  };
  scores[no_timestamps_id] = kNegInf;

  const int64_t* sampled = ids + std::min(begin_index, cur_len);
  const int64_t n = std::max<int64_t>(cur_len - begin_index, 0);
  const bool last_ts = n >= 1 && sampled[n - 1] >= tb;
  const bool penultimate_ts = n < 2 || sampled[n - 2] >= tb;
  if (last_ts) {
    if (penultimate_ts) mask(tb, V);  // a completed pair: text next
    else mask(0, eos_id);             // a lone timestamp: its partner or EOS next
  }
  int64_t last_timestamp = -1;
  for (int64_t i = 0; i < n; ++i)
    if (sampled[i] >= tb) last_timestamp = sampled[i];
  if (last_timestamp >= 0) {
    // Timestamps do not go back; a fresh one must also move past <|last|>.
    const int64_t limit = (last_ts && !penultimate_ts) ? last_timestamp : last_timestamp + 1;
    mask(tb, limit);
  }
  if (cur_len == begin_index) {
    mask(0, tb);
    if (max_initial_timestamp_index) mask(tb + *max_initial_timestamp_index + 1, V);
  }
  if (!detect_from_logprob || tb >= V) return;
  // log_softmax, then logsumexp over timestamps vs the best text token.
  float mx = kNegInf;
  for (int64_t j = 0; j < V; ++j) mx = std::max(mx, scores[j]);
  if (mx == kNegInf) return;
  double denom = 0;
  for (int64_t j = 0; j < V; ++j) denom += std::exp(double(scores[j]) - mx);
  const double log_denom = std::log(denom) + mx;
  double ts_sum = 0;
  float ts_max = kNegInf;
  for (int64_t j = tb; j < V; ++j) ts_max = std::max(ts_max, scores[j]);
  if (ts_max == kNegInf) return;
  for (int64_t j = tb; j < V; ++j) ts_sum += std::exp(double(scores[j]) - ts_max);
  const double ts_logprob = std::log(ts_sum) + ts_max - log_denom;
  float text_max = kNegInf;
  for (int64_t j = 0; j < tb; ++j) text_max = std::max(text_max, scores[j]);
  const double text_logprob = double(text_max) - log_denom;
  if (ts_logprob > text_logprob) mask(0, tb);
}

}  // namespace ia
