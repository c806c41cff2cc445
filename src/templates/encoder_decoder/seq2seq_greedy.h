// Greedy generate() of the models that decode from decoder_start_token_id against
// an encoded input (transformers 4.44.2 _sample without a logits warper): every row
// starts from the start token, each step's logits go through the generation
// config's logits processors, the first maximum is chosen, finished rows are padded
// and EOS stops. The encoder-decoder template and RAG (whose step marginalises its
// documents' logits into one row per question first) both run this loop.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "parts/generate_config.h"
#include "parts/logits_processors.h"
#include "templates/model.h"

namespace ia {

class Seq2SeqGreedy {
 public:
  // One decoding step: the previous step's B chosen tokens (the start token first) in,
  // the step's [B, vocab] logits out.
  using Step = std::function<const float*(const int64_t* next)>;
  // Sees each step's B chosen tokens once all rows have chosen.
  using AfterStep = std::function<void(const int64_t* next)>;

  // Resolves what generate() fixes before decoding: the options' EOS override, the
  // start and pad tokens and the logits processors. Errors are prefixed with `who`.
  Seq2SeqGreedy(const GenerateConfig& cfg, const GenerateOptions& opts, int64_t vocab, const std::string& who);

  const GenerateConfig& config() const { return g_; }  // with the EOS override applied
  bool eos_on() const { return eos_on_; }
  int64_t max_new() const { return max_new_; }

  // Decodes up to max_new() tokens for B rows. Row b's encoder input ids (for the
  // encoder-based processors) are encoder_len ids at encoder_ids + b * encoder_stride.
  // Returns "sequences" [B, 1 + produced] and, when the options ask for step logits,
  // "step_logits" (the raw logits) and "step_scores" (processed), [B, produced, vocab].
  TensorMap run(int64_t B, const int64_t* encoder_ids, int64_t encoder_stride, int64_t encoder_len, const Step& step,
                const AfterStep& after_step = {});

 private:
  GenerateConfig g_;
  int64_t vocab_, max_new_, start_, pad_;
  bool eos_on_, return_step_logits_;
  LogitsProcessors proc_;
};

}  // namespace ia
