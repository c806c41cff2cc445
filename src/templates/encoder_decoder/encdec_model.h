// The encoder-decoder model (T5, BART and their parameter rows): encoder stack,
// decoder stack with causal self-attention (KV cache) and cross-attention over
// the encoder output (cache filled once per batch), LM head.
//
// API for callers that drive decoding themselves (beam search, pipelines):
//   EncDecModel m(ctx);
//   m.encode(ids, mask, B, S)      -> encoder output [B*S, d_model] (also kept inside)
//   m.set_encoder_output(h, mask, B, S) -> instead of encode(): states from another encoder
//   m.start_decoding(capacity)     -> sizes the self-attention cache, projects the
//                                     cross-attention keys/values of every layer once
//   m.decode(tokens, T)            -> logits [B*T, vocab] for T new tokens per row
//                                     (T = 1 per step: GEMV path, no heap allocation)
// forward() and generate() are built on these calls.
//
// FFN hook: every block's feed-forward part is an EncDecFeedForward built by a
// FeedForwardFactory. The default factory builds T5's DenseReluDense (plain or
// gated) or BART's fc1/fc2; switch_transformers passes a factory that returns its
// sparse MoE layer for every `encoder_sparse_step`-th / `decoder_sparse_step`-th
// block and the dense one otherwise (see t5_params_from_config in encdec_params.h).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parts/cross_attention_cache.h"
#include "parts/generate_config.h"
#include "parts/kv_cache.h"
#include "parts/nn.h"
#include "parts/t5_relative_bias.h"
#include "templates/encoder_decoder/encdec_params.h"
#include "templates/model.h"

namespace ia {

// A block's feed-forward part: y[rows, d_model] = ffn(x[rows, d_model]) (no residual, no norm).
class EncDecFeedForward {
 public:
  virtual ~EncDecFeedForward() = default;
  virtual void forward(const float* x, int64_t rows, float* y) = 0;
  // x holds `batch` rows of `seq` tokens each (batch-major). FFNs whose result
  // depends on that layout (switch_transformers' per-row expert capacity) override it.
  virtual void forward_batch(const float* x, int64_t batch, int64_t seq, float* y) { forward(x, batch * seq, y); }
  virtual nlohmann::json describe() const = 0;
};

// `module` is the FFN's weights (e.g. encoder.block.3.layer.1.DenseReluDense);
// `layer` the whole block (for FFNs stored beside other parts, as BART's fc1/fc2).
using FeedForwardFactory = std::function<std::unique_ptr<EncDecFeedForward>(
    const EncDecParams& p, const Weights& module, bool decoder, int64_t layer_index, int64_t ffn_dim)>;

// The dense FFN of the row (plain or gated); the default factory.
std::unique_ptr<EncDecFeedForward> make_dense_ffn(const EncDecParams& p, const Weights& module, bool decoder,
                                                  int64_t layer_index, int64_t ffn_dim);

class EncDecModel : public Model, public StepDecoder {
 public:
  explicit EncDecModel(const ModelContext& ctx, FeedForwardFactory ffn = make_dense_ffn);
  EncDecModel(const ModelContext& ctx, EncDecParams params, FeedForwardFactory ffn = make_dense_ffn);
  ~EncDecModel() override;

  const std::string& model_type() const override { return p_.model_type; }
  Family family() const override { return Family::EncoderDecoder; }
  // input_ids [B, S], attention_mask [B, S] (optional), decoder_input_ids [B, T],
  // decoder_attention_mask [B, T] (optional) -> logits [B, T, vocab] and
  // encoder_last_hidden_state [B, S, d_model] (base models: last_hidden_state).
  TensorMap forward(const TensorMap& inputs) override;
  // Greedy decoding from decoder_start_token_id honouring generation_config.json
  // -> sequences [B, 1 + new], step_logits (raw) and step_scores (processed) [B, new, vocab].
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override;

  // StepDecoder (pipelines): prefill encodes the prompt [B, P] and runs the decoder
  // start token, returning its logits [B, vocab]; capacity - P bounds the new tokens.
  int64_t vocab() const override { return p_.vocab; }
  const float* prefill(const int64_t* ids, const int64_t* mask, int64_t batch, int64_t prompt_len,
                       int64_t capacity) override;
  const float* decode_step(const int64_t* tokens) override { return decode(tokens, 1); }

  const EncDecParams& params() const { return p_; }
  // The feed-forward part of encoder/decoder block `layer` (what the factory built).
  EncDecFeedForward* feed_forward(bool decoder, int64_t layer) const;
  const GenerateConfig& generate_config() const { return gen_; }

  const float* encode(const int64_t* ids, const int64_t* mask, int64_t batch, int64_t src_len);
  // Decodes over encoder states computed elsewhere (e.g. an audio or vision
  // encoder feeding this decoder): states [batch * src_len, d_model], mask may be null.
  void set_encoder_output(const float* states, const int64_t* mask, int64_t batch, int64_t src_len);
  void start_decoding(int64_t capacity);
  const float* decode(const int64_t* tokens, int64_t T, const int64_t* decoder_mask = nullptr);
  // Decoder hidden states of the last decode() (after the final norm) [B*T, d_model].
  const float* decoder_hidden() const { return dec_out_.data(); }
  int64_t decoded_length() const { return self_cache_.length(); }
  // Beam search: decoder row b continues from row src[b] (self-attention cache;
  // every row attends to the same encoder output, so the cross cache stays).
  void reorder_decoder_rows(const int64_t* src) { self_cache_.reorder_rows(src); }

  struct Norm;      // RMSNorm or LayerNorm (encdec_model.cpp)
  struct Attention; // q/k/v/o projections
  struct Layer;     // one block

 protected:
  struct Stack;
  void load(const ModelContext& ctx, const FeedForwardFactory& ffn);
  void run_encoder(const int64_t* ids, int64_t B, int64_t S);
  void run_decoder(const int64_t* tokens, int64_t T, const int64_t* decoder_mask);
  nlohmann::json ffn_describe(bool decoder) const;  // one entry per layer

  EncDecParams p_;
  GenerateConfig gen_;
  Embedding shared_;
  Linear lm_head_;
  std::vector<float> logits_bias_;
  std::unique_ptr<Stack> enc_, dec_;

  int64_t B_ = 0, S_ = 0;
  std::vector<int64_t> enc_mask_;
  KVCache self_cache_;
  CrossAttentionCache cross_cache_;
  // Work buffers, grown on demand and reused (no allocation per decode step).
  std::vector<float> enc_out_, dec_out_, x_, h_, q_, k_, v_, att_, tmp_, bias_, logits_;
  std::vector<int64_t> pos_;
};

}  // namespace ia
