// Greedy decoding shared by every StepDecoder (decoder-only, MoE, state-space):
// argmax per row, finished rows padded, EOS stopping, step logits collected.
#pragma once
#include <cstdint>
#include <vector>

#include "templates/model.h"

namespace ia {

// `first_logits` are the prompt's last-token logits [B, vocab] (null when max_new == 0);
// `ids` the prompt [B, P]. Returns "sequences" [B, P + produced] and, if asked,
// "step_logits" [B, produced, vocab].
// Per-step rows gathered step-major [steps, B, V] reordered to the [B, steps, V] tensor
// generate() returns (step_logits, step_scores).
Tensor batch_major_steps(const std::vector<float>& step_major, int64_t B, int64_t steps, int64_t V);

// The first maximum of a row of V scores (torch.argmax's choice among ties).
int64_t first_argmax(const float* row, int64_t V);

// After a step chose `next` for every row: the rows that chose an EOS token become
// finished (only when `eos_on`). Returns whether every row is finished.
bool mark_finished_rows(const std::vector<int64_t>& next, const std::vector<int64_t>& eos, bool eos_on,
                        std::vector<char>& done);

TensorMap greedy_decode(StepDecoder& model, const float* first_logits, const int64_t* ids, int64_t B, int64_t P,
                        int64_t pad, const std::vector<int64_t>& eos, const GenerateOptions& opts);

}  // namespace ia
