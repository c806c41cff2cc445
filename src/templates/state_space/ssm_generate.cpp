// forward(), greedy generate() and the "stateful" reference case of the
// state-space template, all built on feed() / prefill_chunked() / decode_step().
#include <algorithm>
#include <cstring>
#include <regex>

#include "core/error.h"
#include "templates/greedy_decode.h"
#include "templates/state_space/state_space_model.h"

namespace ia {

namespace {

struct Batch {
  int64_t B = 0, T = 0;
  std::vector<int64_t> ids, mask;
  bool has_mask = false;
};

Batch read_batch(const TensorMap& in, const std::string& who) {
  const Tensor& ids_t = require_input(in, "input_ids", who);
  IA_CHECK(ids_t.rank() == 2 && ids_t.dim(0) > 0 && ids_t.dim(1) > 0, who,
           ": input_ids must be [batch, seq] with at least one token, got ", shape_str(ids_t.shape()));
  Batch b;
  b.B = ids_t.dim(0);
  b.T = ids_t.dim(1);
  Tensor ids = ids_t.to_i64();
  b.ids.assign(ids.i64(), ids.i64() + ids.numel());
  if (const Tensor* m = optional_input(in, "attention_mask")) {
    IA_CHECK(m->shape() == ids_t.shape(), who, ": attention_mask shape ", shape_str(m->shape()),
             " does not match input_ids ", shape_str(ids_t.shape()));
    Tensor mi = m->to_i64();
    b.mask.assign(mi.i64(), mi.i64() + mi.numel());
    for (auto& v : b.mask) v = v != 0 ? 1 : 0;
    b.has_mask = true;
  }
  return b;
}

}  // namespace

TensorMap StateSpaceModel::forward(const TensorMap& in) {
  Batch b = read_batch(in, p_.model_type);
  const int64_t B = b.B, T = b.T, H = p_.hidden;
  reset_state(B);
  // 4.44 masks padding (mamba2 only) in the cache path's prefill, which forward() takes
  // when config.use_cache is set, and only for a batch of several multi-token rows.
  const bool masked = b.has_mask && p_.use_cache && T > 1;
  const float* hidden = feed(b.ids.data(), masked ? b.mask.data() : nullptr, T, 0);
  Tensor hs = Tensor::f32({B, T, H});
  std::memcpy(hs.f32(), hidden, size_t(B * T * H) * 4);
  TensorMap out{{"last_hidden_state", hs}};
  if (lm_head_.defined()) {
    Tensor logits = Tensor::f32({B, T, p_.vocab});
    logits_of(hs.f32(), B * T, logits.f32());
    out["logits"] = logits;
  }
  return out;
}

TensorMap StateSpaceModel::generate(const TensorMap& in, const GenerateOptions& opts) {
  Batch b = read_batch(in, p_.model_type);
  const int64_t B = b.B, P = b.T;
  IA_CHECK(opts.max_new_tokens >= 0, p_.model_type, ": max_new_tokens must not be negative");
  const std::vector<int64_t> eos = opts.eos_token_ids.empty() ? p_.eos_ids : opts.eos_token_ids;
  const int64_t pad = opts.pad_token_id ? *opts.pad_token_id : (p_.pad_id >= 0 ? p_.pad_id : (eos.empty() ? 0 : eos[0]));
  const int64_t max_new = opts.max_new_tokens;

  const float* logits = max_new > 0 ? prefill_chunked(b.ids.data(), (b.has_mask && P > 1) ? b.mask.data() : nullptr, B, P, 0) : nullptr;
  return greedy_decode(*this, logits, b.ids.data(), B, P, pad, eos, opts);
}

TensorMap StateSpaceModel::run_case(const std::string& case_name, const TensorMap& in, const nlohmann::json& info) {
  if (case_name != "stateful") return Model::run_case(case_name, in, info);
  // Prefill lengths from the reference's "result" keys ("prefill_3_then_single_steps").
  std::vector<int64_t> prefills;
  if (info.contains("result") && info["result"].is_object()) {
    static const std::regex re("prefill_([0-9]+)_then_single_steps");
    for (auto it = info["result"].begin(); it != info["result"].end(); ++it) {
      std::smatch m;
      if (std::regex_match(it.key(), m, re)) prefills.push_back(std::stoll(m[1].str()));
    }
  }
  if (prefills.empty()) prefills.push_back(1);
  Batch b = read_batch(in, p_.model_type);
  const int64_t B = b.B, T = b.T, H = p_.hidden, V = p_.vocab;
  IA_CHECK(lm_head_.defined(), p_.model_type, ": the stateful case needs an LM head");
  TensorMap out;
  for (size_t k = 0; k < prefills.size(); ++k) {
    const int64_t P = std::clamp<int64_t>(prefills[k], 1, T);
    Tensor logits = Tensor::f32({B, T, V});
    for (int64_t r = 0; r < B; ++r) {  // per row, batch 1, as the reference does
      reset_state(1);
      const float* hidden = feed(b.ids.data() + r * T, nullptr, P, 0);
      logits_of(hidden, P, logits.f32() + r * T * V);
      for (int64_t t = P; t < T; ++t) {
        const float* l = decode_step(b.ids.data() + r * T + t);
        std::memcpy(logits.f32() + (r * T + t) * V, l, size_t(V) * 4);
      }
    }
    (void)H;
    if (k == 0) out["logits"] = logits;
    out["logits.prefill_" + std::to_string(P)] = logits;
  }
  return out;
}

}  // namespace ia
