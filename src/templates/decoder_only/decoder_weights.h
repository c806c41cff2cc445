// Checkpoint layouts -> the decoder template's canonical projections: q/k/v always
// produce one row [q heads | k heads | v heads], the gated MLP's input projection
// [gate | up], whatever the checkpoint stored. Separate or already-concatenated
// weights are used in place (a LinearGroup of views, no copy); only per-head
// interleaved layouts (GPT-NeoX, Falcon) are reordered into a copy at load.
#pragma once
#include <string>
#include <vector>

#include "parts/nn.h"
#include "parts/weights.h"
#include "templates/decoder_only/decoder_params.h"

namespace ia {

// The first prefix under which `probe` exists; errors list what was tried.
Weights find_base(const Weights& root, const std::vector<std::string>& candidates, const std::string& probe);
// [q | k | v] projection of one layer (`layer` = weights of layers.<i>).
LinearGroup load_fused_qkv(const DecoderParams& p, const Weights& layer);
// MLP input projection: fc [I, H] (Plain) or [gate | up] [2I, H] (Gated).
LinearGroup load_mlp_up(const DecoderParams& p, const Weights& layer);
// Rows `rows` of several weights stacked in order (dtype kept when all agree).
Tensor gather_rows(const std::vector<const Tensor*>& parts, const std::vector<std::pair<int, int64_t>>& rows);

}  // namespace ia
