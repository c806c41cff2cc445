// Preset builders for the mixture-of-experts and state-space families (the
// table in presets.cpp names the real-size instances and tiny test variants).
#pragma once
#include <string>

#include "bench/presets.h"

namespace ia::bench {

struct MixtralDims {
  int64_t hidden, intermediate, layers, heads, kv_heads, experts, top_k, vocab, max_positions;
};

// MixtralForCausalLM as save_pretrained writes it (untied lm_head).
Preset mixtral_preset(const std::string& name, const std::string& desc, const MixtralDims& d);
// MambaForCausalLM (expand 2, conv 4, time_step_rank ceil(hidden/16)); the head is tied to the embeddings.
Preset mamba_preset(const std::string& name, const std::string& desc, int64_t hidden, int64_t layers, int64_t vocab,
                    int64_t state);
// RwkvForCausalLM (RWKV-4: attention width = hidden, FFN 4x, rescale_every 6, untied head).
Preset rwkv_preset(const std::string& name, const std::string& desc, int64_t hidden, int64_t layers, int64_t vocab,
                   int64_t context);

}  // namespace ia::bench
