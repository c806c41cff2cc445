// Decode attention kernels: ONE query position of several heads against a KV cache
// stored position-major ([position, kv_heads * head_dim], the KVCache layout).
//
// They walk the cache position by position and, at each position, visit every head
// of the call, so a thread that owns a run of heads reads one contiguous piece of
// each cached row. Walking one head at a time instead touches 256 bytes of every
// 3 KiB row (GPT-2): a scattered, latency-bound walk that took ~1.7 ms of a 12.5 ms
// GPT-2 decode step at 230 cached positions.
#pragma once
#include <cstdint>

namespace ia::cpu {

struct DecodeAttendArgs {
  const float* q = nullptr;  // query head h (h0 <= h < h1) at q + (h - h0) * D
  int64_t h0 = 0, h1 = 0;
  int64_t group = 1;         // query heads per KV head: head h reads KV head h / group
  const float* k = nullptr;  // key of position j, KV head g: k + j * k_row + g * D
  int64_t k_row = 0;
  const float* v = nullptr;  // value of position j, KV head g: v + j * v_row + g * Dv
  int64_t v_row = 0;
  int64_t Tk = 0, D = 0, Dv = 0;
};

// scores[(h - h0) * Tk + j] = q_h . k_j (unscaled), for every head and position.
void decode_scores(const DecodeAttendArgs& a, float* scores);
// out[(h - h0) * Dv + d] = sum_j probs[(h - h0) * Tk + j] * v_j[d]; positions with a
// zero probability are skipped (a masked position's values never reach the output).
void decode_mix(const DecodeAttendArgs& a, const float* probs, float* out);
// Portable versions (tests compare the SIMD ones against these).
void decode_scores_scalar(const DecodeAttendArgs& a, float* scores);
void decode_mix_scalar(const DecodeAttendArgs& a, const float* probs, float* out);

}  // namespace ia::cpu
