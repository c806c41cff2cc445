// forward() and greedy generate() of the encoder-decoder template: the encoder
// runs once, the cross-attention cache is filled once, and the decoder runs the
// whole decoder_input_ids (forward) or one token per step (generate).
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "templates/encoder_decoder/encdec_model.h"
#include "templates/encoder_decoder/seq2seq_greedy.h"

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
  const int64_t B = enc.B, S = enc.T;
  Seq2SeqGreedy greedy(gen_, opts, p_.vocab, who);
  const GenerateConfig& g = greedy.config();
  if (enc_mask.empty() && (opts.pad_token_id || g.pad_id)) {
    // generate() infers the encoder mask as input_ids != pad when pad occurs in the
    // inputs and is not an EOS token (_prepare_attention_mask_for_generation).
    const int64_t p = opts.pad_token_id ? *opts.pad_token_id : *g.pad_id;
    const std::vector<int64_t> no_eos;
    const std::vector<int64_t>& eos = greedy.eos_on() ? g.eos_ids : no_eos;
    bool pad_in_inputs = std::find(enc.ids.begin(), enc.ids.end(), p) != enc.ids.end();
    bool pad_is_eos = std::find(eos.begin(), eos.end(), p) != eos.end();
    if (pad_in_inputs && !pad_is_eos) {
      enc_mask.resize(enc.ids.size());
      for (size_t i = 0; i < enc.ids.size(); ++i) enc_mask[i] = enc.ids[i] != p ? 1 : 0;
    }
  }
  if (greedy.max_new() > 0) {
    encode(enc.ids.data(), enc_mask.empty() ? nullptr : enc_mask.data(), B, S);
    start_decoding(greedy.max_new());
  }
  return greedy.run(B, enc.ids.data(), S, S, [&](const int64_t* next) { return decode(next, 1); });
}

}  // namespace ia
