#include "templates/greedy_decode.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace ia {

Tensor batch_major_steps(const std::vector<float>& step_major, int64_t B, int64_t steps, int64_t V) {
  IA_CHECK(int64_t(step_major.size()) >= B * steps * V, "step rows: ", step_major.size(), " values for ", steps,
           " steps x ", B, " rows x ", V);
  Tensor t = Tensor::f32({B, steps, V});
  for (int64_t s = 0; s < steps; ++s)
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(t.f32() + (b * steps + s) * V, step_major.data() + (s * B + b) * V, size_t(V) * 4);
  return t;
}

int64_t first_argmax(const float* row, int64_t V) {
  int64_t best = 0;
  for (int64_t j = 1; j < V; ++j)
    if (row[j] > row[best]) best = j;
  return best;
}

bool mark_finished_rows(const std::vector<int64_t>& next, const std::vector<int64_t>& eos, bool eos_on,
                        std::vector<char>& done) {
  bool all_done = true;
  for (size_t b = 0; b < next.size(); ++b) {
    if (eos_on && std::find(eos.begin(), eos.end(), next[b]) != eos.end()) done[b] = 1;
    all_done = all_done && done[b];
  }
  return all_done;
}

TensorMap greedy_decode(StepDecoder& model, const float* logits, const int64_t* ids, int64_t B, int64_t P, int64_t pad,
                        const std::vector<int64_t>& eos, const GenerateOptions& opts) {
  const int64_t V = model.vocab(), max_new = opts.max_new_tokens;
  std::vector<int64_t> seq(size_t(B * (P + max_new)));
  for (int64_t r = 0; r < B; ++r) std::memcpy(seq.data() + r * (P + max_new), ids + r * P, size_t(P) * 8);
  std::vector<float> step_logits;  // step-major [new, B, V]
  if (opts.return_step_logits) step_logits.reserve(size_t(B * max_new * V));
  std::vector<char> done(static_cast<size_t>(B), 0);
  std::vector<int64_t> next(static_cast<size_t>(B));
  int64_t produced = 0;
  while (produced < max_new) {
    for (int64_t r = 0; r < B; ++r) {
      next[size_t(r)] = done[size_t(r)] ? pad : first_argmax(logits + r * V, V);
      seq[size_t(r * (P + max_new) + P + produced)] = next[size_t(r)];
    }
    if (opts.return_step_logits) step_logits.insert(step_logits.end(), logits, logits + B * V);
    ++produced;
    const bool all_done = mark_finished_rows(next, eos, opts.eos_stops, done);
    if (produced >= max_new || (opts.eos_stops && all_done)) break;
    logits = model.decode_step(next.data());
  }
  Tensor sequences = Tensor::empty(DType::I64, {B, P + produced});
  for (int64_t r = 0; r < B; ++r)
    std::memcpy(sequences.i64() + r * (P + produced), seq.data() + r * (P + max_new), size_t(P + produced) * 8);
  TensorMap out{{"sequences", sequences}};
  if (opts.return_step_logits) {
    out["step_logits"] = batch_major_steps(step_logits, B, produced, V);
  }
  return out;
}

}  // namespace ia
