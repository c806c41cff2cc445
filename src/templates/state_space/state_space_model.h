// The state-space model (mamba, mamba2, rwkv): embeddings, a stack of recurrent
// blocks carrying a RecurrentState, a final norm and the LM head.
//
// API for callers that drive decoding themselves (pipelines, benchmarks):
//   StateSpaceModel m(ctx);
//   m.prefill_chunked(ids, mask, B, T, chunk)  -> last-token logits [B, vocab]; the state is
//                                                 reset, then the prompt runs `chunk` tokens at a
//                                                 time (any chunk size gives the same logits)
//   m.decode_step(tokens)                      -> logits [B, vocab] for one new token per row
//                                                 (no heap allocation once the buffers are sized)
//   m.save_state(path) / m.load_state(path)    -> the state after any prefix, as safetensors
//   m.state_bytes()                            -> bytes of recurrent state (independent of length)
// forward(), generate() and the "stateful" reference case are built on the same calls.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "parts/causal_conv1d.h"
#include "parts/nn.h"
#include "parts/recurrent_state.h"
#include "templates/model.h"
#include "templates/state_space/ssm_params.h"

namespace ia {

// What the pipeline reports about recurrent processing (state_info).
struct StateStats {
  int64_t chunks_processed = 0;   // multi-token pieces run since the last reset
  int64_t tokens_prefilled = 0;   // tokens per row fed through prefill chunks
  int64_t tokens_decoded = 0;     // single-token decode steps
  double prefill_seconds = 0.0, decode_seconds = 0.0;
};

class StateSpaceModel : public Model, public StepDecoder {
 public:
  explicit StateSpaceModel(const ModelContext& ctx);
  ~StateSpaceModel() override;

  const std::string& model_type() const override { return p_.model_type; }
  Family family() const override { return Family::StateSpace; }
  // input_ids [B, T] (attention_mask honoured where 4.44 does: mamba2's prefill)
  // -> logits [B, T, vocab] (when the checkpoint has a head), last_hidden_state [B, T, hidden].
  TensorMap forward(const TensorMap& inputs) override;
  // Greedy decoding on the recurrent state -> sequences [B, P + new], step_logits [B, new, vocab].
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts) override;
  // "stateful": per row, prefill P tokens then feed the rest one at a time (P from case_info).
  TensorMap run_case(const std::string& case_name, const TensorMap& inputs, const nlohmann::json& case_info) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override;

  const SsmParams& params() const { return p_; }
  int64_t vocab() const override { return p_.vocab; }
  bool has_lm_head() const { return lm_head_.defined(); }

  // Resets the state for `batch` rows.
  void reset_state(int64_t batch);
  // Feeds T tokens per row (ids/mask [B, T], mask may be null) on top of the current state,
  // in pieces of at most `chunk_size` tokens (<= 0: one piece). Returns the final hidden
  // states of all T tokens, [B*T, hidden] row-major (valid until the next call).
  const float* feed(const int64_t* ids, const int64_t* mask, int64_t T, int64_t chunk_size);
  // reset_state(B) + feed(prompt) -> last-token logits [B, vocab].
  const float* prefill_chunked(const int64_t* ids, const int64_t* mask, int64_t batch, int64_t T, int64_t chunk_size);
  // StepDecoder: prefill_chunked(ids, mask, B, P, one piece); the recurrent state needs no
  // capacity, so `capacity` is ignored.
  const float* prefill(const int64_t* ids, const int64_t* mask, int64_t batch, int64_t prompt_len,
                       int64_t capacity) override;
  // One token per row on the current state -> logits [B, vocab].
  const float* decode_step(const int64_t* tokens) override;
  void save_state(const std::string& path) const;
  void load_state(const std::string& path);
  size_t state_bytes() const { return state_.bytes(); }
  // Bytes a KV cache for the same number of tokens would take in a transformer of this
  // width and depth (K and V, F32): what the recurrent state saves.
  size_t kv_cache_equivalent_bytes(int64_t tokens) const;
  const RecurrentState& state() const { return state_; }
  const StateStats& stats() const { return stats_; }
  // Logits for `rows` final hidden states -> out [rows, vocab].
  void logits_of(const float* hidden, int64_t rows, float* out) const;

  struct MambaLayer;
  struct Mamba2Layer;
  struct RwkvLayer;

 private:
  // Runs T tokens per row (one piece) through every block, carrying the state; the final
  // hidden states [B*T, hidden] end in out_.
  void run_piece(const int64_t* ids, const int64_t* mask, int64_t T);
  void mamba_block(int64_t l, int64_t T);
  void mamba2_block(int64_t l, int64_t T, const int64_t* mask);
  void rwkv_block(int64_t l, int64_t T);
  void configure_state();
  std::map<std::string, std::string> state_identity() const;

  SsmParams p_;
  Embedding embed_;
  RMSNorm final_rms_;
  LayerNorm final_ln_;
  Linear lm_head_;
  std::vector<MambaLayer> mamba_;
  std::vector<Mamba2Layer> mamba2_;
  std::vector<RwkvLayer> rwkv_;
  int64_t d_mlp_ = 0;  // Mamba-2 in_proj's leading MLP parts (unused by 4.44's mixer; normally 0)

  RecurrentState state_;
  StateStats stats_;
  // Work buffers, grown on demand and reused (no allocation per decode step).
  std::vector<float> x_, n_, proj_, conv_, xdbc_, dt_, y_, tmp_, k_, v_, r_, out_, logits_;
  std::vector<int64_t> ids_buf_, piece_ids_, piece_mask_;
};

}  // namespace ia
