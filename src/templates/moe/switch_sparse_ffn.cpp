#include "templates/moe/switch_sparse_ffn.h"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/error.h"
#include "parts/moe_analytics.h"

namespace ia {

RouterDType router_dtype_from_name(const std::string& name, const std::string& where) {
  if (name == "float32") return RouterDType::F32;
  if (name == "bfloat16") return RouterDType::BF16;
  if (name == "float16") return RouterDType::F16;
  throw Error(cat(where, ": router_dtype must be one of 'float32', 'float16' or 'bfloat16', got '", name, "'"));
}

float round_to_router_dtype(RouterDType t, float v) {
  switch (t) {
    case RouterDType::F32: return v;
    case RouterDType::BF16: return bf16_to_f32(f32_to_bf16(v));
    case RouterDType::F16: return f16_to_f32(f32_to_f16(v));
  }
  return v;
}

SwitchSparseFfn::SwitchSparseFfn(const SwitchRouterParams& rp, const Weights& module, int64_t d_model, int64_t d_ff,
                                 cpu::Act act, const std::string& act_name)
    : rp_(rp), d_model_(d_model), d_ff_(d_ff), act_(act), act_name_(act_name) {
  IA_CHECK(rp.n_experts > 0, "switch_transformers: num_experts must be positive, got ", rp.n_experts);
  const int64_t E = rp.n_experts, D = d_model;
  // _cast_classifier: the classifier runs in router_dtype, so its weights are rounded once.
  Weights cls = module.pp("router").pp("classifier");
  Tensor w = cls.get("weight", {E, D}).to_f32();
  router_w_.assign(w.f32(), w.f32() + E * D);
  for (float& v : router_w_) v = round_to_router_dtype(rp.dtype, v);
  if (rp.bias) {
    Tensor b = cls.get("bias", {E}).to_f32();
    router_b_.assign(b.f32(), b.f32() + E);
    for (float& v : router_b_) v = round_to_router_dtype(rp.dtype, v);
  }
  for (int64_t e = 0; e < E; ++e) {
    Weights ew = module.pp("experts").pp("expert_" + std::to_string(e));
    wi_.push_back(Linear::load(ew.pp("wi"), D, d_ff, false));
    wo_.push_back(Linear::load(ew.pp("wo"), d_ff, D, false));
  }
}

void SwitchSparseFfn::route(const float* x, int64_t batch, int64_t seq) {
  const int64_t E = rp_.n_experts, D = d_model_, N = batch * seq;
  logits_.resize(size_t(N * E));
  top_prob_.resize(size_t(N));
  reported_.resize(size_t(N));
  chosen_.resize(size_t(N));
  kept_.resize(size_t(N));
  fill_.resize(size_t(E));
  const bool exact = rp_.dtype == RouterDType::F32;
  const float* xr = x;
  if (!exact) {
    if (xr_.size() < size_t(N * D)) xr_.resize(size_t(N * D));
    for (int64_t i = 0; i < N * D; ++i) xr_[size_t(i)] = round_to_router_dtype(rp_.dtype, x[i]);
    xr = xr_.data();
  }
  cpu::gemm_nt(N, E, D, xr, D, router_w_.data(), D, logits_.data(), E);
  probs_.resize(size_t(E));
  float* probs = probs_.data();
  for (int64_t b = 0; b < batch; ++b) {
    std::fill(fill_.begin(), fill_.end(), 0);  // tokens sent to each expert so far in this row
    for (int64_t t = 0; t < seq; ++t) {
      const int64_t r = b * seq + t;
      float* lg = logits_.data() + r * E;
      for (int64_t e = 0; e < E; ++e) {
        if (!router_b_.empty()) lg[e] += router_b_[size_t(e)];
        lg[e] = round_to_router_dtype(rp_.dtype, lg[e]);
      }
      float mx = lg[0];
      for (int64_t e = 1; e < E; ++e) mx = std::max(mx, lg[e]);
      double sum = 0;
      for (int64_t e = 0; e < E; ++e) sum += (probs[e] = std::exp(lg[e] - mx));
      int64_t best = 0;
      for (int64_t e = 0; e < E; ++e) {
        probs[e] = round_to_router_dtype(rp_.dtype, float(probs[e] / sum));
        if (probs[e] > probs[best]) best = e;  // first maximum, as torch.argmax
      }
      top_prob_[size_t(r)] = probs[best];
      chosen_[size_t(r)] = int32_t(best);
      const bool keep = ++fill_[size_t(best)] <= rp_.capacity;
      kept_[size_t(r)] = keep ? 1 : 0;
      reported_[size_t(r)] = keep ? best : 0;
      if (!keep) ++dropped_total_;
    }
  }
}

void SwitchSparseFfn::forward_batch(const float* x, int64_t batch, int64_t seq, float* y) {
  const int64_t E = rp_.n_experts, D = d_model_, F = d_ff_, N = batch * seq;
  last_batch_ = batch;
  last_seq_ = seq;
  route(x, batch, seq);
  // Dropped tokens keep their input (the clone in SparseMLP); kept ones are overwritten below.
  std::memcpy(y, x, size_t(N * D) * 4);
  // Which experts SparseMLP runs: 4.44 picks them from
  // router_mask.transpose(1, 2).reshape(batch * seq, num_experts).sum(0), a reshape
  // of the [batch, experts, seq] layout that mixes experts and positions: column j
  // collects the entries whose flat index (b * E * S + e * S + s) is j mod E. An
  // expert whose column is all zero is skipped and its kept tokens keep their input,
  // as dropped ones do. One token per step (decoding) always maps e -> e.
  active_.assign(size_t(E), 0);
  for (int64_t r = 0; r < N; ++r)
    if (kept_[size_t(r)]) {
      const int64_t b = r / seq, t = r % seq, e = chosen_[size_t(r)];
      active_[size_t((b * E * seq + e * seq + t) % E)] = 1;
    }
  for (int64_t e = 0; e < E; ++e) {
    if (!active_[size_t(e)]) continue;
    tok_.clear();
    for (int64_t r = 0; r < N; ++r)
      if (kept_[size_t(r)] && chosen_[size_t(r)] == e) tok_.push_back(r);
    if (tok_.empty()) continue;
    const int64_t n = int64_t(tok_.size());
    if (xin_.size() < size_t(n * D)) xin_.resize(size_t(n * D));
    if (mid_.size() < size_t(n * F)) mid_.resize(size_t(n * F));
    if (out_.size() < size_t(n * D)) out_.resize(size_t(n * D));
    for (int64_t i = 0; i < n; ++i) std::memcpy(xin_.data() + i * D, x + tok_[size_t(i)] * D, size_t(D) * 4);
    wi_[size_t(e)].forward(xin_.data(), n, mid_.data());
    cpu::apply_act(act_, mid_.data(), n * F);
    wo_[size_t(e)].forward(mid_.data(), n, out_.data());
    for (int64_t i = 0; i < n; ++i) std::memcpy(y + tok_[size_t(i)] * D, out_.data() + i * D, size_t(D) * 4);
  }
  for (int64_t r = 0; r < N; ++r) cpu::scale_inplace(y + r * D, top_prob_[size_t(r)], D);
  if (recorder_) recorder_->record(layer_, chosen_.data(), top_prob_.data(), N, 1);
}

nlohmann::json SwitchSparseFfn::describe() const {
  return {{"kind", "switch-top1-moe"},
          {"num_experts", rp_.n_experts},
          {"expert_capacity", rp_.capacity},
          {"router_dtype", rp_.dtype_name},
          {"router_bias", rp_.bias},
          {"activation", act_name_},
          {"ffn_dim", d_ff_}};
}

}  // namespace ia
