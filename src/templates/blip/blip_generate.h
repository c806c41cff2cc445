// Greedy decoding with the BLIP text decoder as GenerationMixin runs it for
// BLIP's generate overrides: KV cache, cross-attention to `encoder` (image or
// question embeddings, all positions attended), `sep_token_id` as eos, rows
// that finished padded with `pad_token_id`.
#pragma once
#include <vector>

#include "templates/blip/blip_text.h"
#include "templates/model.h"

namespace ia {

// prompt / mask: [B, P] row-major. Returns "sequences" [B, P + steps] and, when
// opts.return_step_logits, "step_logits" [B, steps, vocab].
TensorMap blip_greedy_decode(const BlipTextModel& text, const BlipLMHead& head, const BlipTextParams& tp,
                             const std::vector<int64_t>& prompt, const std::vector<int64_t>& mask, int64_t B, int64_t P,
                             const Tensor& encoder, const GenerateOptions& opts);

}  // namespace ia
