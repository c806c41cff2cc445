// Mixture-of-experts family template: registration, router-logit outputs,
// analytics plumbing and the top-k override.
#include "templates/moe/moe_model.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/family.h"
#include "templates/moe/moe_rows.h"
#include "templates/moe/switch_model.h"

namespace ia {

MoeModel::MoeModel(const ModelContext& ctx) : DecoderModel(ctx) {
  for (int64_t l : moe_layers()) moe_[size_t(l)]->set_recorder(&recorder_, l);
  start_recording();
}

void MoeModel::start_recording() { recorder_.reset(params().n_layers, params().moe.n_experts); }

std::vector<int64_t> MoeModel::moe_layers() const {
  std::vector<int64_t> r;
  for (size_t l = 0; l < moe_.size(); ++l)
    if (moe_[l]) r.push_back(int64_t(l));
  return r;
}

MoeFfn* MoeModel::moe_block(int64_t layer) const {
  IA_CHECK(layer >= 0 && layer < int64_t(moe_.size()), model_type(), ": layer ", layer, " out of range (",
           moe_.size(), " layers)");
  return moe_[size_t(layer)].get();
}

void MoeModel::set_experts_per_token(int64_t k) {
  const int64_t kk = k == 0 ? params().moe.top_k : k;
  for (int64_t l : moe_layers()) moe_[size_t(l)]->set_top_k(kk);
}

int64_t MoeModel::experts_per_token() const {
  for (const auto& m : moe_)
    if (m) return m->top_k();
  return params().moe.top_k;
}

TensorMap MoeModel::forward(const TensorMap& inputs) {
  start_recording();
  TensorMap out = DecoderModel::forward(inputs);
  int64_t j = 0;
  for (int64_t l : moe_layers()) {
    const MoeFfn& m = *moe_[size_t(l)];
    Tensor t = Tensor::f32({m.last_rows(), m.n_experts()});
    std::memcpy(t.f32(), m.router_logits().data(), size_t(m.last_rows() * m.n_experts()) * 4);
    out["router_logits." + std::to_string(j++)] = t;
  }
  return out;
}

TensorMap MoeModel::generate(const TensorMap& inputs, const GenerateOptions& opts) {
  start_recording();
  return DecoderModel::generate(inputs, opts);
}

nlohmann::json MoeModel::describe() const {
  nlohmann::json j = DecoderModel::describe();
  j["template"] = "mixture-of-experts (decoder-only with MoE FFN)";
  const MoeParams& m = params().moe;
  std::vector<int64_t> layers = moe_layers();
  j["moe"] = {{"num_experts", m.n_experts},
              {"num_experts_per_tok", experts_per_token()},
              {"expert_intermediate_size", m.expert_intermediate},
              {"renormalize_top_k", m.norm_topk},
              {"shared_expert_intermediate_size", m.shared_intermediate},
              {"shared_expert_gate", m.shared_intermediate > 0 ? "sigmoid" : "none"},
              {"moe_layers", layers},
              {"routing", "softmax -> top-k; tokens grouped per expert"}};
  return j;
}

FamilyTemplate moe_template() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> t = moe_model_types();
    t.push_back("switch_transformers");  // encoder-decoder MoE (switch_model.h)
    return t;
  }();
  return {Family::MixtureOfExperts, types, [](const ModelContext& ctx) -> std::unique_ptr<Model> {
            if (ctx.model_type == "switch_transformers") return std::make_unique<SwitchModel>(ctx);
            return std::make_unique<MoeModel>(ctx);
          }};
}

}  // namespace ia
