// The logits processors transformers 4.44.2 generate() builds from a
// generation config for greedy decoding (_get_logits_processor), applied in
// the same order: encoder repetition penalty, repetition penalty, no-repeat
// n-grams (decoder and encoder), bad words, min length, min new tokens, forced
// BOS, forced EOS, invalid-value removal, exponential decay length penalty,
// suppress tokens, begin-suppress tokens, renormalisation.
// The processed scores are what transformers reports as `scores` (step_scores).
#pragma once
#include <cstdint>
#include <vector>

#include "parts/generate_config.h"

namespace ia {

class LogitsProcessors {
 public:
  // prompt_len: the decoder input length generation started from (1 for
  // encoder-decoders: decoder_start_token_id). max_length = prompt_len + max_new_tokens.
  // eos_enabled = false when the caller disabled EOS (eos_token_id=None): the
  // EOS-based processors (min length, min new tokens, decay penalty) are then off,
  // as in transformers.
  LogitsProcessors(const GenerateConfig& s, int64_t vocab, int64_t prompt_len, int64_t max_length,
                   bool eos_enabled, bool is_encoder_decoder);

  // True when any processor can change scores.
  bool active() const { return active_; }

  // Processes one row in place. seq = decoder tokens so far (cur_len of them,
  // including the prompt / decoder start); enc = encoder input ids (may be null).
  void apply(float* scores, const int64_t* seq, int64_t cur_len, const int64_t* enc, int64_t enc_len) const;

 private:
  void penalise(float* scores, const int64_t* ids, int64_t n, double penalty) const;
  void ban_ngram_continuations(float* scores, const int64_t* hist, int64_t hist_len, const int64_t* seq,
                               int64_t cur_len, int64_t n) const;

  GenerateConfig s_;
  int64_t vocab_ = 0, prompt_len_ = 0, max_length_ = 0;
  bool eos_enabled_ = true, active_ = false;
  int64_t begin_index_ = 0;
  std::vector<std::vector<int64_t>> bad_words_;  // without the [eos] sequences, as NoBadWordsLogitsProcessor
  mutable std::vector<char> seen_;              // per-token marks for the penalties (sized once)
};

}  // namespace ia
