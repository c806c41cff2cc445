#include "templates/encoder_decoder/seq2seq_greedy.h"

#include <cstring>

#include "core/error.h"
#include "templates/greedy_decode.h"

namespace ia {

namespace {

GenerateConfig with_eos_override(GenerateConfig g, const GenerateOptions& opts) {
  if (!opts.eos_token_ids.empty()) g.eos_ids = opts.eos_token_ids;
  return g;
}

int64_t checked_max_new(const GenerateOptions& opts, const std::string& who) {
  IA_CHECK(opts.max_new_tokens >= 0, who, ": max_new_tokens must not be negative");
  return opts.max_new_tokens;
}

int64_t start_token(const GenerateConfig& g, int64_t vocab, const std::string& who) {
  IA_CHECK(g.decoder_start_id || g.bos_id, who,
           ": neither decoder_start_token_id nor bos_token_id is set (config.json / generation_config.json)");
  const int64_t start = g.decoder_start_id ? *g.decoder_start_id : *g.bos_id;
  IA_CHECK(start >= 0 && start < vocab, who, ": decoder_start_token_id ", start, " is outside the vocabulary (size ",
           vocab, ")");
  return start;
}

}  // namespace

Seq2SeqGreedy::Seq2SeqGreedy(const GenerateConfig& cfg, const GenerateOptions& opts, int64_t vocab,
                             const std::string& who)
    : g_(with_eos_override(cfg, opts)),
      vocab_(vocab),
      max_new_(checked_max_new(opts, who)),
      start_(start_token(g_, vocab, who)),
      pad_(opts.pad_token_id ? *opts.pad_token_id : (g_.pad_id ? *g_.pad_id : (g_.eos_ids.empty() ? 0 : g_.eos_ids[0]))),
      eos_on_(opts.eos_stops && !g_.eos_ids.empty()),
      return_step_logits_(opts.return_step_logits),
      // Decoding starts from one decoder token, so max_length = 1 + max_new_tokens.
      proc_(g_, vocab, 1, 1 + max_new_, eos_on_, true) {}

TensorMap Seq2SeqGreedy::run(int64_t B, const int64_t* encoder_ids, int64_t encoder_stride, int64_t encoder_len,
                             const Step& step, const AfterStep& after_step) {
  const int64_t V = vocab_, L = 1 + max_new_;
  std::vector<int64_t> seq(size_t(B * L), pad_);
  for (int64_t b = 0; b < B; ++b) seq[size_t(b * L)] = start_;
  std::vector<float> step_logits, step_scores;  // step-major [new, B, V]
  if (return_step_logits_) {
    step_logits.reserve(size_t(B * max_new_ * V));
    step_scores.reserve(size_t(B * max_new_ * V));
  }
  std::vector<char> done(static_cast<size_t>(B), 0);
  std::vector<int64_t> next(static_cast<size_t>(B), start_);
  std::vector<float> scores(static_cast<size_t>(V));
  int64_t produced = 0;
  while (produced < max_new_) {
    const float* logits = step(next.data());
    if (return_step_logits_) step_logits.insert(step_logits.end(), logits, logits + B * V);
    const int64_t cur_len = 1 + produced;
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(scores.data(), logits + b * V, size_t(V) * 4);
      proc_.apply(scores.data(), seq.data() + b * L, cur_len, encoder_ids + b * encoder_stride, encoder_len);
      if (return_step_logits_) step_scores.insert(step_scores.end(), scores.begin(), scores.end());
      next[size_t(b)] = done[size_t(b)] ? pad_ : first_argmax(scores.data(), V);
      seq[size_t(b * L + cur_len)] = next[size_t(b)];
    }
    if (after_step) after_step(next.data());
    ++produced;
    if (mark_finished_rows(next, g_.eos_ids, eos_on_, done) && eos_on_) break;
  }
  Tensor sequences = Tensor::empty(DType::I64, {B, 1 + produced});
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(sequences.i64() + b * (1 + produced), seq.data() + b * L, size_t(1 + produced) * 8);
  TensorMap out{{"sequences", sequences}};
  if (return_step_logits_) {
    out["step_logits"] = batch_major_steps(step_logits, B, produced, V);
    out["step_scores"] = batch_major_steps(step_scores, B, produced, V);
  }
  return out;
}

}  // namespace ia
