// The decoder-only model: one forward pass for every row of decoder_params.h,
// with a preallocated KV cache.
//
// API for callers that drive decoding themselves (bench, pipelines):
//   DecoderModel m(ctx);
//   m.prefill(ids, mask, B, P, capacity)   -> logits of the last prompt token per row [B, vocab]
//                                             (the whole prompt runs as one batched GEMM pass)
//   m.decode_step(tokens)                  -> logits [B, vocab] for one new token per row
//                                             (M = B rows: the GEMV weight-streaming path;
//                                             no heap allocation once the cache is sized)
// forward() / generate() are built on the same two calls.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/team_balance.h"
#include "parts/attention.h"
#include "parts/kv_cache.h"
#include "parts/nn.h"
#include "parts/rope.h"
#include "templates/decoder_only/decoder_params.h"
#include "templates/model.h"

namespace ia {

class MoeFfn;

class DecoderModel : public Model, public StepDecoder {
 public:
  explicit DecoderModel(const ModelContext& ctx);
  // A language model stored below `weight_prefix` of a larger checkpoint (LLaVA's "language_model").
  DecoderModel(const ModelContext& ctx, const std::string& weight_prefix);
  ~DecoderModel() override;

  const std::string& model_type() const override { return p_.model_type; }
  Family family() const override { return Family::DecoderOnly; }
  // input_ids [B, T], optional attention_mask [B, T] and position_ids [B, T]
  // -> logits [B, T, vocab], last_hidden_state [B, T, out] (after the final norm).
  TensorMap forward(const TensorMap& inputs) override;
  // Greedy decoding with the KV cache -> sequences [B, P + new], step_logits [B, new, vocab].
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override { return {"text-generation"}; }

  const DecoderParams& params() const { return p_; }
  int64_t vocab() const override { return p_.vocab; }

  // Starts a new batch: sizes the cache for `capacity` positions per row.
  void reset_cache(int64_t batch, int64_t capacity);
  // Runs the prompt (ids/mask [B, P], mask may be null = all ones) with positions as
  // generate() computes them; returns a view of the last-token logits [B, vocab].
  const float* prefill(const int64_t* ids, const int64_t* mask, int64_t batch, int64_t prompt_len, int64_t capacity) override;
  // Appends one token per row (attention mask 1) and returns its logits [B, vocab].
  const float* decode_step(const int64_t* tokens) override;
  int64_t cache_length() const { return cache_.length(); }

  // For front ends that build the input embeddings themselves (LLaVA): runs T new positions
  // per row from `embeds` [B, T, embed_dim] (null: the token `ids` [B, T]) with explicit
  // positions and key mask [B, T], appending to the cache sized by reset_cache(). Returns
  // the final hidden states [B*T, embed_dim] (valid until the next call).
  const float* run_inputs(const float* embeds, const int64_t* ids, const int64_t* positions, const int64_t* mask,
                          int64_t T);
  void logits(const float* hidden, int64_t rows, float* out) { logits_of(hidden, rows, out); }
  // get_input_embeddings()(ids): range-checked token rows [n, embed_dim].
  void embed_tokens(const int64_t* ids, int64_t n, float* out) const { lookup_tokens(ids, n, out); }
  KVCache& kv_cache() { return cache_; }
  // Column shares of the decode step's threads (decoder_team_step.cpp; tests fix them).
  cpu::TeamBalance& team_balance() { return balance_; }
  // Fully masked query rows (left padding) attend uniformly to every key, as in
  // transformers' eager attention; LLaVA's decode rule can later attend those rows' keys.
  void set_masked_rows_uniform(bool on) { masked_rows_uniform_ = on; }

 public:
  struct Norm;   // a LayerNorm / RMSNorm of the row's kind (decoder_model.cpp)
  struct Layer;  // one block's weights

 protected:
  std::vector<std::unique_ptr<MoeFfn>> moe_;  // per layer; null = dense MLP (templates/moe)

 private:
  // Runs T new tokens per row through the stack, appending to the cache.
  // ids/positions/mask are [B, T]; mask may be null (all ones). Final hidden states
  // (after final norm and OPT project_out) end in out_ [B*T, embed_dim].
  void run(const int64_t* ids, const int64_t* positions, const int64_t* mask, int64_t T);
  // Decode steps (one token per row) run every layer inside one OpenMP parallel region,
  // each stage split across its threads (decoder_team_step.cpp). True when this step can.
  bool team_step_ok(int64_t T, bool use_slots) const;
  // The layer loop of run() for such a step; spec/a as run() prepared them.
  void run_layers_team(const AttentionSpec& spec, const AttentionArgs& a);
  // Switches on the Gemma-2 HybridCache emulation for a generate() of `max_length` positions.
  void start_hybrid_cache(int64_t max_length);
  void logits_of(const float* hidden, int64_t rows, float* out);
  // Token embedding rows (range-checked ids) converted to F32.
  void lookup_tokens(const int64_t* ids, int64_t n, float* out) const;
  void positions_for_generate(const int64_t* mask, int64_t B, int64_t P, int64_t* pos) const;

  DecoderParams p_;
  const float* embeds_in_ = nullptr;  // run_inputs(): embeddings replacing the token lookup
  bool masked_rows_uniform_ = false;
  Tensor embed_table_;  // [vocab, embed_dim] as stored
  Embedding pos_embed_;
  std::unique_ptr<Norm> embed_norm_, final_norm_;
  Linear project_in_, project_out_, lm_head_;
  std::vector<Layer> layers_;
  Rope rope_;
  std::vector<float> alibi_slopes_;
  int64_t qkv_dim_ = 0, kv_dim_ = 0;

  KVCache cache_;
  std::vector<int64_t> mask_count_;  // running sum of each row's attention mask (ALiBi positions)
  std::vector<int64_t> next_pos_;    // next position id per row during decoding
  std::vector<float> alibi_pos_;     // [B, capacity]
  // Gemma-2 HybridCache emulation (generate only): slot -> position of the sliding ring (-1 = zero slot).
  bool hybrid_active_ = false;
  bool generating_ = false;           // inside prefill/decode_step (generate semantics)
  int64_t hybrid_slots_ = 0;
  int64_t hf_cache_len_ = 0, hf_cache_batch_ = 0;  // HF keeps a larger HybridCache across generate() calls
  std::vector<int64_t> slot_pos_;
  std::vector<float> slot_k_, slot_v_;
  // Work buffers, grown on demand and reused (no allocation per decode step).
  std::vector<float> x_, h_, qkv_, att_, tmp_, mid_, mlp_in_, out_, logits_;
  std::vector<int64_t> pos_buf_, ids_buf_, step_mask_;
  std::vector<float> team_buf_;  // per-thread normed inputs of a team step
  cpu::TeamBalance balance_;     // team step column shares, following the threads' speeds
  std::vector<double> team_busy_;  // per thread: time worked in the last team step
};

}  // namespace ia
