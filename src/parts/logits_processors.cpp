#include "parts/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cpu/kernels.h"
#include "core/error.h"

namespace ia {

namespace {

void check_ids(const std::vector<int64_t>& ids, int64_t vocab, const char* field) {
  for (int64_t t : ids)
    IA_CHECK(t >= 0 && t < vocab, "generation config: ", field, " token ", t, " is outside the vocabulary (size ",
             vocab, ")");
}

}  // namespace

LogitsProcessors::LogitsProcessors(const GenerateConfig& s, int64_t vocab, int64_t prompt_len, int64_t max_length,
                                   bool eos_enabled, bool is_encoder_decoder)
    : s_(s), vocab_(vocab), prompt_len_(prompt_len), max_length_(max_length), eos_enabled_(eos_enabled) {
  if (!eos_enabled_) s_.eos_ids.clear();
  check_ids(s_.eos_ids, vocab, "eos_token_id");
  check_ids(s_.forced_eos_ids, vocab, "forced_eos_token_id");
  check_ids(s_.suppress_tokens, vocab, "suppress_tokens");
  check_ids(s_.begin_suppress_tokens, vocab, "begin_suppress_tokens");
  if (s_.forced_bos_id) check_ids({*s_.forced_bos_id}, vocab, "forced_bos_token_id");
  IA_CHECK(s_.encoder_no_repeat_ngram_size <= 0 || is_encoder_decoder,
           "generation config: encoder_no_repeat_ngram_size needs an encoder-decoder model");
  for (const auto& w : s_.bad_words_ids) {
    check_ids(w, vocab, "bad_words_ids");
    bool is_eos = w.size() == 1 && std::find(s_.eos_ids.begin(), s_.eos_ids.end(), w[0]) != s_.eos_ids.end();
    if (!is_eos) bad_words_.push_back(w);
  }
  const bool has_eos = !s_.eos_ids.empty();
  if (!has_eos) {  // processors that need eos_token_id are not built without one
    s_.min_length = 0;
    s_.min_new_tokens = 0;
    s_.exponential_decay_length_penalty.reset();
  }
  begin_index_ = prompt_len;
  if (!(prompt_len > 1 || !s_.forced_bos_id)) begin_index_ += 1;
  active_ = s_.encoder_repetition_penalty != 1.0 || s_.repetition_penalty != 1.0 || s_.no_repeat_ngram_size > 0 ||
            s_.encoder_no_repeat_ngram_size > 0 || !bad_words_.empty() || s_.min_length > 0 ||
            s_.min_new_tokens > 0 || s_.forced_bos_id || !s_.forced_eos_ids.empty() || s_.remove_invalid_values ||
            s_.exponential_decay_length_penalty || !s_.suppress_tokens.empty() ||
            !s_.begin_suppress_tokens.empty() || s_.renormalize_logits;
  seen_.assign(size_t(vocab), 0);
}

void LogitsProcessors::penalise(float* scores, const int64_t* ids, int64_t n, double penalty) const {
  // torch gathers every listed score, rescales and scatters back: each distinct token once.
  const float p = float(penalty);
  for (int64_t i = 0; i < n; ++i) {
    int64_t t = ids[i];
    if (t < 0 || t >= vocab_ || seen_[size_t(t)]) continue;
    seen_[size_t(t)] = 1;
    float& x = scores[t];
    x = x < 0 ? x * p : x / p;
  }
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] >= 0 && ids[i] < vocab_) seen_[size_t(ids[i])] = 0;
}

void LogitsProcessors::ban_ngram_continuations(float* scores, const int64_t* hist, int64_t hist_len,
                                               const int64_t* seq, int64_t cur_len, int64_t n) const {
  // Tokens that complete an n-gram of `hist` whose first n-1 tokens equal the last n-1 of `seq`.
  if (cur_len + 1 < n || hist_len < n) return;
  const int64_t* tail = seq + cur_len - (n - 1);
  for (int64_t i = 0; i + n <= hist_len; ++i) {
    if (!std::equal(tail, tail + n - 1, hist + i)) continue;
    int64_t t = hist[i + n - 1];
    if (t >= 0 && t < vocab_) scores[t] = -INFINITY;
  }
}

void LogitsProcessors::apply(float* sc, const int64_t* seq, int64_t cur_len, const int64_t* enc,
                             int64_t enc_len) const {
  if (!active_) return;
  const int64_t V = vocab_;
  if (s_.encoder_repetition_penalty != 1.0 && enc) penalise(sc, enc, enc_len, 1.0 / s_.encoder_repetition_penalty);
  if (s_.repetition_penalty != 1.0) penalise(sc, seq, cur_len, s_.repetition_penalty);
  if (s_.no_repeat_ngram_size > 0) ban_ngram_continuations(sc, seq, cur_len, seq, cur_len, s_.no_repeat_ngram_size);
  if (s_.encoder_no_repeat_ngram_size > 0 && enc)
    ban_ngram_continuations(sc, enc, enc_len, seq, cur_len, s_.encoder_no_repeat_ngram_size);
  for (const auto& w : bad_words_) {
    const int64_t k = int64_t(w.size()) - 1;  // prefix length that must end the sequence
    if (k > 0 && k + 1 > cur_len) continue;  // longer than the context: SequenceBias ignores it
    if (std::equal(w.begin(), w.end() - 1, seq + cur_len - k)) sc[w.back()] = -INFINITY;
  }
  if (s_.min_length > 0 && cur_len < s_.min_length)
    for (int64_t e : s_.eos_ids) sc[e] = -INFINITY;
  if (s_.min_new_tokens > 0 && cur_len - prompt_len_ < s_.min_new_tokens)
    for (int64_t e : s_.eos_ids) sc[e] = -INFINITY;
  if (s_.forced_bos_id && cur_len == 1) {
    std::fill(sc, sc + V, -INFINITY);
    sc[*s_.forced_bos_id] = 0.f;
  }
  if (!s_.forced_eos_ids.empty() && cur_len == max_length_ - 1) {
    std::fill(sc, sc + V, -INFINITY);
    for (int64_t e : s_.forced_eos_ids) sc[e] = 0.f;
  }
  if (s_.remove_invalid_values)
    for (int64_t j = 0; j < V; ++j) {
      if (std::isnan(sc[j])) sc[j] = 0.f;
      else if (sc[j] == INFINITY) sc[j] = std::numeric_limits<float>::max();
    }
  if (s_.exponential_decay_length_penalty) {
    const int64_t start = s_.exponential_decay_length_penalty->first + prompt_len_;
    if (cur_len > start) {
      const double factor = std::pow(s_.exponential_decay_length_penalty->second, double(cur_len - start)) - 1.0;
      for (int64_t e : s_.eos_ids) sc[e] = sc[e] + std::fabs(sc[e]) * float(factor);
    }
  }
  for (int64_t t : s_.suppress_tokens) sc[t] = -INFINITY;
  if (!s_.begin_suppress_tokens.empty() && cur_len == begin_index_)
    for (int64_t t : s_.begin_suppress_tokens) sc[t] = -INFINITY;
  if (s_.renormalize_logits) {
    float m = -INFINITY;
    for (int64_t j = 0; j < V; ++j) m = std::max(m, sc[j]);
    double sum = 0;
    for (int64_t j = 0; j < V; ++j) sum += std::exp(double(sc[j] - m));
    const float lse = m + float(std::log(sum));
    for (int64_t j = 0; j < V; ++j) sc[j] -= lse;
  }
}

}  // namespace ia
