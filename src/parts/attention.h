// Scaled dot-product attention shared by every template: multi-head, grouped- and
// multi-query (n_kv_heads < n_heads), causal with an offset for KV caches,
// padding masks, sliding windows, ALiBi, additive position bias (T5, DeBERTa)
// and logit soft-capping (Gemma-2).
#pragma once
#include <cstdint>

namespace ia {

struct AttentionSpec {
  int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int64_t v_head_dim = 0;       // 0 = head_dim
  float scale = 1.f;
  bool causal = false;
  int64_t sliding_window = 0;   // >0: key masked when q_pos - k_pos >= sliding_window
  float softcap = 0.f;          // >0: scores = softcap * tanh(scores / softcap)
  const float* alibi_slopes = nullptr;  // [n_heads]: score += slope * k_pos
  // A query whose keys are all masked attends uniformly to all Tk keys, as transformers'
  // eager attention does with additive finfo.min masks (score + min rounds to min).
  bool masked_rows_uniform = false;
};

struct AttentionArgs {
  int64_t B = 1, Tq = 0, Tk = 0;
  // Token rows hold all heads contiguously: q row = n_heads * head_dim values.
  const float* q = nullptr; int64_t q_row = 0, q_batch = 0;
  const float* k = nullptr; int64_t k_row = 0, k_batch = 0;
  const float* v = nullptr; int64_t v_row = 0, v_batch = 0;
  float* out = nullptr; int64_t out_row = 0, out_batch = 0;  // [B, Tq, n_heads * v_head_dim]
  const int64_t* key_mask = nullptr; int64_t key_mask_batch = 0;  // [B, >=Tk], 0 = padding key
  // Query i sits at position q_pos0 + i in key coordinates (Tk - Tq when appending to a cache).
  int64_t q_pos0 = 0;
  // Additive bias [B?, n_heads, Tq, Tk]; bias_batch = 0 broadcasts over the batch.
  const float* bias = nullptr; int64_t bias_batch = 0;
  // Optional per-row key positions for ALiBi [B, Tk] (defaults to the key index).
  const float* alibi_pos = nullptr; int64_t alibi_pos_batch = 0;
};

// Runs every head of every row; decode shapes (Tq == 1, no additive bias) take
// attention_decode_heads() over a split of the heads, everything else the generic loop.
void attention(const AttentionSpec& spec, const AttentionArgs& a);
// The generic loop: one head of one row at a time (the reference the decode path is tested against).
void attention_generic(const AttentionSpec& spec, const AttentionArgs& a);
// Decode (Tq == 1) for query heads [h0, h1) of every row, on the calling thread: the
// cache is walked position by position across those heads (cpu::decode_scores), so a
// thread owning a run of heads streams one contiguous piece of each cached row.
// Other shapes (Tq > 1, an additive bias) run the generic loop head by head.
void attention_decode_heads(const AttentionSpec& spec, const AttentionArgs& a, int64_t h0, int64_t h1);

}  // namespace ia
