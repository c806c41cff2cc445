// Public entry of the encoder-only template for composite models (RAG's DPR
// question encoder, ...): builds the encoder from a sub-config whose weights
// sit under a prefix of a larger checkpoint.
#pragma once
#include <memory>
#include <string>

#include "templates/model.h"

namespace ia {

// ctx.config / ctx.model_type describe the encoder (e.g. RAG's "question_encoder" sub-config, model_type "dpr");
// its tensors are looked up under `weight_prefix` (e.g. "rag.question_encoder") of ctx.checkpoint.
// A non-empty `architecture` replaces ctx.architecture (sub-configs often have none).
std::unique_ptr<Model> build_encoder_only(const ModelContext& ctx, const std::string& weight_prefix = "",
                                          const std::string& architecture = "");

}  // namespace ia
