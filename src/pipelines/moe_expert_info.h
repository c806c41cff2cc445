// The "expert_info" block of the moe pipeline's results, computed from the
// routing a MoeRecorder captured while the request ran: per MoE layer how often
// each expert was chosen, the top experts, which expert sets were chosen
// together and how often, and per-token attribution (the experts and routing
// weights that processed each position, and the token that position produced).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parts/moe_analytics.h"
#include "tokenizers/tokenizer.h"

namespace ia {

// One token sequence the recorded rows belong to (decoder-only MoE: the prompt and
// the generated tokens fed back; switch: the encoder input, or the decoder tokens).
struct RoutedSequence {
  std::string stack;                 // "decoder", "encoder", ...
  std::vector<int64_t> input_ids;    // token at each routed position, in call order
  std::vector<int64_t> next_ids;     // the token each position produced (-1: none); may be empty
  std::vector<int64_t> prompt_len;   // positions < prompt_len[0] are prompt tokens (empty: all input)
};

struct MoeLayerRef {
  int64_t recorder_layer = 0;  // layer index in the recorder
  std::string name;            // e.g. "model.layers.1", "encoder.block.1"
  size_t sequence = 0;         // index into the RoutedSequence list
  int64_t dropped = -1;        // tokens dropped by expert capacity (-1: no capacity limit)
};

struct ExpertInfoSettings {
  int64_t num_experts = 0, experts_per_token = 0, experts_per_token_config = 0;
  size_t top_n = 3, top_combinations = 5;
  size_t max_attributed_tokens = 512;  // per sequence; longer requests are truncated (flagged)
};

nlohmann::json expert_info_json(const MoeRecorder& rec, const std::vector<MoeLayerRef>& layers,
                                const std::vector<RoutedSequence>& seqs, const Tokenizer& tok,
                                const ExpertInfoSettings& s);

}  // namespace ia
