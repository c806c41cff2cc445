// Token selection for generation: the logits processors and warpers of
// transformers' generate(), in the same order (repetition penalty, then
// temperature -> top-k -> top-p -> min-p), followed by greedy argmax or a
// seeded multinomial draw.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace ia {

struct SamplingParams {
  bool do_sample = false;
  float temperature = 1.f;
  int64_t top_k = 50;        // transformers' GenerationConfig default; 0 disables
  float top_p = 1.f;
  float min_p = 0.f;         // 0 disables
  float repetition_penalty = 1.f;
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(SamplingParams p);
  // Applies the processors to `logits` in place (so callers can report processed scores)
  // and returns the chosen token. `context` = tokens so far (prompt + generated).
  int64_t next(float* logits, int64_t vocab, const std::vector<int64_t>& context);
  const SamplingParams& params() const { return p_; }

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;  // reused scratch: no allocation per token once warmed up
  std::vector<float> probs_;
};

// Individual steps, exposed for tests and for pipelines that need only some of them.
void apply_repetition_penalty(float* logits, int64_t vocab, const std::vector<int64_t>& context, float penalty);
void apply_top_k(float* logits, int64_t vocab, int64_t k);
void apply_top_p(float* logits, int64_t vocab, float top_p);
void apply_min_p(float* logits, int64_t vocab, float min_p);
int64_t argmax(const float* logits, int64_t vocab);

}  // namespace ia
