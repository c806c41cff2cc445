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
TensorMap greedy_decode(StepDecoder& model, const float* first_logits, const int64_t* ids, int64_t B, int64_t P,
                        int64_t pad, const std::vector<int64_t>& eos, const GenerateOptions& opts);

}  // namespace ia
