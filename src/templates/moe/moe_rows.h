// Decoder-template parameter rows of the mixture-of-experts model types
// (mixtral, qwen2_moe): attention as their dense siblings, FFN as MoE blocks.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "templates/decoder_only/decoder_params.h"

namespace ia {

class HFConfig;

using DecoderRow = std::function<void(const HFConfig&, DecoderParams&)>;

// The row of a MoE model type, or nullptr when `model_type` is not one.
const DecoderRow* find_moe_row(const std::string& model_type);
// The MoE model types (what the mixture-of-experts family template lists).
const std::vector<std::string>& moe_model_types();

}  // namespace ia
