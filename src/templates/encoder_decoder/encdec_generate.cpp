// forward() and greedy generate() of the encoder-decoder template: the encoder
// runs once, the cross-attention cache is filled once, and the decoder runs the
// whole decoder_input_ids (forward) or one token per step (generate).
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "templates/greedy_decode.h"
#include "parts/logits_processors.h"
#include "templates/encoder_decoder/encdec_model.h"

namespace ia {

namespace {

struct Ids {
  int64_t B = 0, T = 0;
  std::vector<int64_t> ids, mask;
};

Ids read_ids(const Tensor& t, const char* name, const std::string& who) {
  IA_CHECK(t.rank() == 2 && t.dim(0) > 0 && t.dim(1) > 0, who, ": ", name,
           " must be [batch, seq] with at least one token, got ", shape_str(t.shape()));
  Ids r;
  r.B = t.dim(0);
  r.T = t.dim(1);
  Tensor v = t.to_i64();
  r.ids.assign(v.i64(), v.i64() + v.numel());
  return r;
}

std::vector<int64_t> read_mask(const TensorMap& in, const char* name, const Ids& ids, const char* ids_name,
                               const std::string& who) {
  const Tensor* m = optional_input(in, name);
  if (!m) return {};
  IA_CHECK(m->rank() == 2 && m->dim(0) == ids.B && m->dim(1) == ids.T, who, ": ", name, " shape ",
           shape_str(m->shape()), " does not match ", ids_name, " [", ids.B, ", ", ids.T, "]");
  Tensor mi = m->to_i64();
  std::vector<int64_t> r(mi.i64(), mi.i64() + mi.numel());
  for (auto& v : r) v = v != 0 ? 1 : 0;
  return r;
}

}  // namespace

TensorMap EncDecModel::forward(const TensorMap& in) {
  const std::string& who = p_.model_type;
  Ids enc = read_ids(require_input(in, "input_ids", who), "input_ids", who);
  std::vector<int64_t> enc_mask = read_mask(in, "attention_mask", enc, "input_ids", who);
  const int64_t B = enc.B, S = enc.T, D = p_.d_model;
  encode(enc.ids.data(), enc_mask.empty() ? nullptr : enc_mask.data(), B, S);
  Tensor enc_out = Tensor::f32({B, S, D});
  std::memcpy(enc_out.f32(), enc_out_.data(), size_t(B * S * D) * 4);
  if (p_.head == EncDecHead::EncoderOnly) return {{"last_hidden_state", enc_out}};

  Ids dec;
  if (const Tensor* d = optional_input(in, "decoder_input_ids")) {
    dec = read_ids(*d, "decoder_input_ids", who);
  } else {
    // BartModel shifts input_ids right when no decoder inputs are given; T5 requires them.
    IA_CHECK(p_.model_type == "bart", who, ": missing input 'decoder_input_ids'");
    IA_CHECK(p_.decoder_start_id >= 0, who, ": decoder_start_token_id is not set in config.json");
    dec = enc;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = S - 1; t > 0; --t) dec.ids[size_t(b * S + t)] = enc.ids[size_t(b * S + t - 1)];
      dec.ids[size_t(b * S)] = p_.decoder_start_id;
    }
  }
  IA_CHECK(dec.B == B, who, ": decoder_input_ids batch ", dec.B, " does not match input_ids batch ", B);
  std::vector<int64_t> dec_mask = read_mask(in, "decoder_attention_mask", dec, "decoder_input_ids", who);
  const int64_t T = dec.T;
  start_decoding(T);
  const float* logits = decode(dec.ids.data(), T, dec_mask.empty() ? nullptr : dec_mask.data());
  TensorMap out{{"encoder_last_hidden_state", enc_out}};
  if (p_.head == EncDecHead::BaseModel) {
    Tensor h = Tensor::f32({B, T, D});
    std::memcpy(h.f32(), dec_out_.data(), size_t(B * T * D) * 4);
    out["last_hidden_state"] = h;
    return out;
  }
  Tensor lg = Tensor::f32({B, T, p_.vocab});
  std::memcpy(lg.f32(), logits, size_t(B * T * p_.vocab) * 4);
  out["logits"] = lg;
  return out;
}

const float* EncDecModel::prefill(const int64_t* ids, const int64_t* mask, int64_t B, int64_t P, int64_t capacity) {
  if (p_.head != EncDecHead::ConditionalGeneration)
    throw Unsupported(cat(p_.model_type, ": ", p_.architecture, " has no language-model head to generate with"));
  IA_CHECK(gen_.decoder_start_id || gen_.bos_id, p_.model_type,
           ": neither decoder_start_token_id nor bos_token_id is set (config.json / generation_config.json)");
  const int64_t start = gen_.decoder_start_id ? *gen_.decoder_start_id : *gen_.bos_id;
  encode(ids, mask, B, P);
  start_decoding(std::max<int64_t>(capacity - P, 0) + 1);
  std::vector<int64_t> first(static_cast<size_t>(B), start);
  return decode(first.data(), 1);
}

TensorMap EncDecModel::generate(const TensorMap& in, const GenerateOptions& opts) {
  const std::string& who = p_.model_type;
  if (p_.head != EncDecHead::ConditionalGeneration)
    throw Unsupported(cat(who, ": ", p_.architecture, " has no language-model head to generate with"));
  Ids enc = read_ids(require_input(in, "input_ids", who), "input_ids", who);
  std::vector<int64_t> enc_mask = read_mask(in, "attention_mask", enc, "input_ids", who);
  const int64_t B = enc.B, S = enc.T, V = p_.vocab;
  IA_CHECK(opts.max_new_tokens >= 0, who, ": max_new_tokens must not be negative");
  const int64_t max_new = opts.max_new_tokens;

  GenerateConfig g = gen_;
  if (!opts.eos_token_ids.empty()) g.eos_ids = opts.eos_token_ids;
  const bool eos_on = opts.eos_stops && !g.eos_ids.empty();
  IA_CHECK(g.decoder_start_id || g.bos_id, who,
           ": neither decoder_start_token_id nor bos_token_id is set (config.json / generation_config.json)");
  const int64_t start = g.decoder_start_id ? *g.decoder_start_id : *g.bos_id;
  IA_CHECK(start >= 0 && start < V, who, ": decoder_start_token_id ", start, " is outside the vocabulary (size ", V, ")");
  int64_t pad = opts.pad_token_id ? *opts.pad_token_id : (g.pad_id ? *g.pad_id : (g.eos_ids.empty() ? 0 : g.eos_ids[0]));
  if (enc_mask.empty() && (opts.pad_token_id || g.pad_id)) {
    // generate() infers the encoder mask as input_ids != pad when pad occurs in the
    // inputs and is not an EOS token (_prepare_attention_mask_for_generation).
    const int64_t p = opts.pad_token_id ? *opts.pad_token_id : *g.pad_id;
    const std::vector<int64_t> no_eos;
    const std::vector<int64_t>& eos = eos_on ? g.eos_ids : no_eos;
    bool pad_in_inputs = std::find(enc.ids.begin(), enc.ids.end(), p) != enc.ids.end();
    bool pad_is_eos = std::find(eos.begin(), eos.end(), p) != eos.end();
    if (pad_in_inputs && !pad_is_eos) {
      enc_mask.resize(enc.ids.size());
      for (size_t i = 0; i < enc.ids.size(); ++i) enc_mask[i] = enc.ids[i] != p ? 1 : 0;
    }
  }
  // Encoder-decoders start from one decoder token, so max_length = 1 + max_new_tokens.
  LogitsProcessors proc(g, V, 1, 1 + max_new, eos_on, true);

  const int64_t L = 1 + max_new;
  std::vector<int64_t> seq(size_t(B * L), pad);
  for (int64_t b = 0; b < B; ++b) seq[size_t(b * L)] = start;
  std::vector<float> step_logits, step_scores;
  step_logits.reserve(size_t(B * max_new * V));
  step_scores.reserve(size_t(B * max_new * V));
  std::vector<char> done(static_cast<size_t>(B), 0);
  std::vector<int64_t> next(static_cast<size_t>(B), start);
  std::vector<float> scores(static_cast<size_t>(V));
  int64_t produced = 0;
  if (max_new > 0) {
    encode(enc.ids.data(), enc_mask.empty() ? nullptr : enc_mask.data(), B, S);
    start_decoding(max_new);
    while (produced < max_new) {
      const float* logits = decode(next.data(), 1);
      step_logits.insert(step_logits.end(), logits, logits + B * V);
      const int64_t cur_len = 1 + produced;
      for (int64_t b = 0; b < B; ++b) {
        std::memcpy(scores.data(), logits + b * V, size_t(V) * 4);
        proc.apply(scores.data(), seq.data() + b * L, cur_len, enc.ids.data() + b * S, S);
        step_scores.insert(step_scores.end(), scores.begin(), scores.end());
        int64_t best = 0;  // first maximum, as torch.argmax
        for (int64_t j = 1; j < V; ++j)
          if (scores[size_t(j)] > scores[size_t(best)]) best = j;
        next[size_t(b)] = done[size_t(b)] ? pad : best;
        seq[size_t(b * L + cur_len)] = next[size_t(b)];
      }
      ++produced;
      bool all_done = true;
      for (int64_t b = 0; b < B; ++b) {
        if (eos_on && std::find(g.eos_ids.begin(), g.eos_ids.end(), next[size_t(b)]) != g.eos_ids.end())
          done[size_t(b)] = 1;
        all_done = all_done && done[size_t(b)];
      }
      if (eos_on && all_done) break;
    }
  }
  Tensor sequences = Tensor::empty(DType::I64, {B, 1 + produced});
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(sequences.i64() + b * (1 + produced), seq.data() + b * L, size_t(1 + produced) * 8);
  TensorMap out{{"sequences", sequences}};
  if (opts.return_step_logits) {
    // Stored step-major [new, B, V]; outputs are [B, new, V].
    Tensor sl = batch_major_steps(step_logits, B, produced, V), ss = batch_major_steps(step_scores, B, produced, V);
    out["step_logits"] = sl;
    out["step_scores"] = ss;
  }
  return out;
}

}  // namespace ia
