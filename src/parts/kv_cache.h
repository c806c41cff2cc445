// Preallocated key/value cache for decoder self-attention. One block per layer
// holds [batch, capacity, kv_dim] keys and values; appending a step only copies
// rows, so the decode loop never touches the heap. A key mask [batch, capacity]
// (0 = padding) travels with the cache because attention reads both.
// Caches of a few MiB and more live in 2 MiB pages: a decode step reads every cached
// row once, and through 4 KiB pages that walk misses the TLB on almost every row
// (GPT-2's 3 KiB rows). Measured on a 12-layer, 228-position GPT-2 cache read between
// weight streams: 1.1-1.4x faster attention from 2 MiB pages.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/huge_pages.h"

namespace ia {

class KVCache {
 public:
  // (Re)allocates for `batch` rows of up to `capacity` positions; memory is kept
  // when the new size fits the old allocation.
  void reset(int64_t n_layers, int64_t batch, int64_t capacity, int64_t k_dim, int64_t v_dim);

  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t length() const { return len_; }
  int64_t k_dim() const { return k_dim_; }
  int64_t v_dim() const { return v_dim_; }

  // Writes `t` new rows per batch entry for `layer` at positions [length, length + t).
  // k rows are `k_stride` floats apart in the source (row b*t + i), v likewise.
  void write(int64_t layer, int64_t t, const float* k, int64_t k_stride, const float* v, int64_t v_stride);
  // Decode (one new position per batch row) for a slice of the row: key values [c0, c1)
  // and value values [vc0, vc1), so threads can write disjoint heads of one step.
  // Sources as in write() with t = 1. No checks (it runs inside parallel regions):
  // the caller has verified length() < capacity() and the slice bounds.
  void write_step_cols(int64_t layer, const float* k, int64_t k_stride, int64_t c0, int64_t c1, const float* v,
                       int64_t v_stride, int64_t vc0, int64_t vc1);
  // Appends the key mask of `t` new positions ([batch, t], may be null = all ones).
  void append_mask(int64_t t, const int64_t* mask);
  // Commits `t` positions after every layer has written them.
  void advance(int64_t t);
  // Beam search: row b takes the cached keys, values and mask of row src[b] (every layer).
  void reorder_rows(const int64_t* src);

  const float* keys(int64_t layer) const { return base_ + size_t(layer) * layer_k_; }
  const float* values(int64_t layer) const { return base_ + size_t(n_layers_) * layer_k_ + size_t(layer) * layer_v_; }
  int64_t k_batch_stride() const { return capacity_ * k_dim_; }
  int64_t v_batch_stride() const { return capacity_ * v_dim_; }
  const int64_t* mask() const { return mask_.data(); }
  int64_t* mask() { return mask_.data(); }

 private:
  float* keys_mut(int64_t layer) { return const_cast<float*>(keys(layer)); }
  float* values_mut(int64_t layer) { return const_cast<float*>(values(layer)); }

  int64_t n_layers_ = 0, batch_ = 0, capacity_ = 0, len_ = 0, k_dim_ = 0, v_dim_ = 0;
  size_t layer_k_ = 0, layer_v_ = 0;  // floats per layer: batch * capacity * dim
  // Every layer's keys, then every layer's values, in one block: small_ below
  // kHugeCacheBytes, huge_ (2 MiB pages) from there on.
  float* base_ = nullptr;
  std::vector<float> small_;
  HugePageBuffer huge_;
  std::vector<int64_t> mask_;  // [batch, capacity]
  std::vector<float> scratch_;  // reorder_rows copy, grown once
  std::vector<int64_t> mask_scratch_;
};

}  // namespace ia
