// Checkpoint layouts -> the decoder template's canonical weights: q/k/v always
// become one fused projection with rows [q heads | k heads | v heads], MLP
// gate/up one fused [gate | up] projection, whatever the checkpoint stored.
#pragma once
#include <string>
#include <vector>

#include "parts/nn.h"
#include "parts/weights.h"
#include "templates/decoder_only/decoder_params.h"

namespace ia {

// The first prefix under which `probe` exists; errors list what was tried.
Weights find_base(const Weights& root, const std::vector<std::string>& candidates, const std::string& probe);
// Fused [q | k | v] projection of one layer (`layer` = weights of layers.<i>).
Linear load_fused_qkv(const DecoderParams& p, const Weights& layer);
// MLP input projection: fc [I, H] (Plain) or fused [gate | up] [2I, H] (Gated).
Linear load_mlp_up(const DecoderParams& p, const Weights& layer);
// Rows `rows` of several weights stacked in order (dtype kept when all agree).
Tensor gather_rows(const std::vector<const Tensor*>& parts, const std::vector<std::pair<int, int64_t>>& rows);

}  // namespace ia
