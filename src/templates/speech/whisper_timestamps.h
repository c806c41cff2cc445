// Whisper timestamp prediction: the rules WhisperTimeStampLogitsProcessor applies
// to each step's scores when generate() runs with return_timestamps (transformers
// 4.44.2, generation/logits_process.py), after begin-suppress and suppress_tokens.
//   - <|notimestamps|> is never chosen;
//   - timestamps come in pairs: after a lone timestamp only another timestamp or
//     EOS may follow (text tokens below EOS are masked), after a pair only text;
//   - timestamps never decrease (and <|0.00|> is not emitted twice);
//   - the first generated token is a timestamp, at most max_initial_timestamp_index;
//   - when the summed probability of all timestamps beats every single text
//     token, a timestamp is forced.
#pragma once
#include <cstdint>
#include <optional>

namespace ia {

struct WhisperTimestampRules {
  int64_t no_timestamps_id = 0;  // timestamps start at no_timestamps_id + 1
  int64_t eos_id = 0;            // eos_token_id (or bos_token_id when unset)
  int64_t begin_index = 0;       // position of the first generated token (prompt length)
  std::optional<int64_t> max_initial_timestamp_index;
  bool detect_from_logprob = true;

  int64_t timestamp_begin() const { return no_timestamps_id + 1; }
  // scores[V] of the row whose tokens so far are ids[0..cur_len), modified in place.
  void apply(float* scores, int64_t V, const int64_t* ids, int64_t cur_len) const;
};

}  // namespace ia
