// Reading RagConfig: retrieval settings and the generation config of RAG-token generate().
#pragma once
#include <nlohmann/json.hpp>

#include "formats/hf_config.h"
#include "parts/generate_config.h"
#include "templates/rag/rag_model.h"

namespace ia {

RagSettings rag_settings_from_config(const HFConfig& config, const HFConfig& generator);
// generation_config: generation_config.json when present (else null). generator_class_defaults:
// the generator config class's defaults for keys its sub-config may omit (BartConfig forced_eos_token_id = 2).
RagGeneration rag_generation_config(const HFConfig* generation_config, const HFConfig& config,
                                    const HFConfig& generator, const nlohmann::json& generator_class_defaults);

}  // namespace ia
