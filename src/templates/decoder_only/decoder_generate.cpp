// forward() and greedy generate() of the decoder-only template, both driven
// through prefill (one batched pass) and M = batch decode steps on the KV cache.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "templates/greedy_decode.h"
#include "templates/decoder_only/decoder_model.h"

namespace ia {

namespace {

struct Batch {
  int64_t B = 0, T = 0;
  std::vector<int64_t> ids, mask;
};

Batch read_ids_and_mask(const TensorMap& in, const std::string& who) {
  const Tensor& ids_t = require_input(in, "input_ids", who);
  IA_CHECK(ids_t.rank() == 2 && ids_t.dim(0) > 0 && ids_t.dim(1) > 0, who, ": input_ids must be [batch, seq] with a token, got ",
           shape_str(ids_t.shape()));
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
  } else {
    b.mask.assign(size_t(b.B * b.T), 1);
  }
  return b;
}

}  // namespace

void DecoderModel::positions_for_generate(const int64_t* mask, int64_t B, int64_t P, int64_t* pos) const {
  for (int64_t b = 0; b < B; ++b) {
    int64_t c = 0;
    for (int64_t t = 0; t < P; ++t) {
      int64_t m = mask[b * P + t];
      c += m;
      if (p_.position_source == PositionSource::FromMaskOpt) pos[b * P + t] = c * m - 1;
      else pos[b * P + t] = m ? c - 1 : 1;  // generate(): cumsum - 1, padding -> 1
    }
  }
}

TensorMap DecoderModel::forward(const TensorMap& in) {
  Batch b = read_ids_and_mask(in, p_.model_type);
  const int64_t B = b.B, T = b.T;
  std::vector<int64_t> pos(size_t(B * T));
  const Tensor* pos_in = optional_input(in, "position_ids");
  if (pos_in && p_.position_source != PositionSource::FromMaskOpt) {  // OPT has no position_ids argument in 4.44
    IA_CHECK(pos_in->rank() == 2 && pos_in->dim(1) == T && (pos_in->dim(0) == B || pos_in->dim(0) == 1), p_.model_type,
             ": position_ids shape ", shape_str(pos_in->shape()), " does not fit input_ids [", B, ", ", T, "]");
    Tensor pi = pos_in->to_i64();
    for (int64_t r = 0; r < B; ++r)
      for (int64_t t = 0; t < T; ++t) pos[size_t(r * T + t)] = pi.i64()[(pos_in->dim(0) == 1 ? 0 : r) * T + t];
  } else if (p_.position_source == PositionSource::Arange) {
    for (int64_t r = 0; r < B; ++r)
      for (int64_t t = 0; t < T; ++t) pos[size_t(r * T + t)] = t;
  } else {
    positions_for_generate(b.mask.data(), B, T, pos.data());
  }
  for (int64_t v : pos) IA_CHECK(v + p_.pos_offset >= 0, p_.model_type, ": position id ", v, " is negative");

  reset_cache(B, T);
  generating_ = false;
  run(b.ids.data(), pos.data(), b.mask.data(), T);
  const int64_t out_dim = p_.embed_dim;
  Tensor hidden = Tensor::f32({B, T, out_dim});
  std::memcpy(hidden.f32(), out_.data(), size_t(B * T * out_dim) * 4);
  Tensor logits = Tensor::f32({B, T, p_.vocab});
  logits_of(hidden.f32(), B * T, logits.f32());
  return {{"logits", logits}, {"last_hidden_state", hidden}};
}

const float* DecoderModel::prefill(const int64_t* ids, const int64_t* mask, int64_t B, int64_t P, int64_t capacity) {
  IA_CHECK(B > 0 && P > 0, p_.model_type, ": prefill needs at least one token per row");
  reset_cache(B, std::max(capacity, P));
  std::vector<int64_t> ones;
  if (!mask) {
    ones.assign(size_t(B * P), 1);
    mask = ones.data();
  }
  std::vector<int64_t> pos(size_t(B * P));
  positions_for_generate(mask, B, P, pos.data());
  for (int64_t b = 0; b < B; ++b) {
    int64_t c = 0;
    for (int64_t t = 0; t < P; ++t) c += mask[b * P + t];
    next_pos_[size_t(b)] = c;  // the next token's cumsum(mask) - 1 (OPT's cumsum*mask - 1 agrees)
  }
  generating_ = true;
  start_hybrid_cache(std::max(capacity, P));
  run(ids, pos.data(), mask, P);
  // Last token of every row -> logits.
  const int64_t out_dim = p_.embed_dim;
  if (logits_.size() < size_t(B * p_.vocab)) logits_.resize(size_t(B * p_.vocab));
  if (h_.size() < size_t(B * out_dim)) h_.resize(size_t(B * out_dim));
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(h_.data() + b * out_dim, out_.data() + (b * P + P - 1) * out_dim, size_t(out_dim) * 4);
  logits_of(h_.data(), B, logits_.data());
  return logits_.data();
}

const float* DecoderModel::decode_step(const int64_t* tokens) {
  const int64_t B = cache_.batch();
  IA_CHECK(B > 0, p_.model_type, ": decode_step before prefill");
  if (step_mask_.size() < size_t(B)) step_mask_.resize(size_t(B));
  if (pos_buf_.size() < size_t(B)) pos_buf_.resize(size_t(B));
  std::fill(step_mask_.begin(), step_mask_.begin() + B, 1);
  // run() reuses pos_buf_ for learned positions, so positions live in ids_buf_'s tail.
  if (ids_buf_.size() < size_t(2 * B)) ids_buf_.resize(size_t(2 * B));
  int64_t* pos = ids_buf_.data() + B;
  std::memcpy(ids_buf_.data(), tokens, size_t(B) * 8);
  for (int64_t b = 0; b < B; ++b) pos[b] = next_pos_[size_t(b)]++;
  run(ids_buf_.data(), pos, step_mask_.data(), 1);
  logits_of(out_.data(), B, logits_.data());
  return logits_.data();
}

TensorMap DecoderModel::generate(const TensorMap& in, const GenerateOptions& opts) {
  Batch b = read_ids_and_mask(in, p_.model_type);
  const int64_t B = b.B, P = b.T;
  IA_CHECK(opts.max_new_tokens >= 0, p_.model_type, ": max_new_tokens must not be negative");
  std::vector<int64_t> eos = opts.eos_token_ids.empty() ? p_.eos_ids : opts.eos_token_ids;
  int64_t pad = opts.pad_token_id ? *opts.pad_token_id : (p_.pad_id >= 0 ? p_.pad_id : (eos.empty() ? 0 : eos[0]));
  const int64_t max_new = opts.max_new_tokens;

  const float* logits = max_new > 0 ? prefill(b.ids.data(), b.mask.data(), B, P, P + max_new) : nullptr;
  return greedy_decode(*this, logits, b.ids.data(), B, P, pad, eos, opts);
}

}  // namespace ia
