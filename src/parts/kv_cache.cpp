#include "parts/kv_cache.h"

#include <cstring>

#include "core/error.h"

namespace ia {

namespace {
// Below this the 2 MiB rounding of a huge-page block would cost more than it saves
// (test-sized models reset caches of a few KiB thousands of times).
constexpr size_t kHugeCacheBytes = size_t(4) << 20;
}  // namespace

void KVCache::reset(int64_t n_layers, int64_t batch, int64_t capacity, int64_t k_dim, int64_t v_dim) {
  IA_CHECK(n_layers >= 0 && batch > 0 && capacity > 0, "KV cache: invalid size (layers ", n_layers, ", batch ", batch,
           ", capacity ", capacity, ")");
  n_layers_ = n_layers;
  batch_ = batch;
  capacity_ = capacity;
  k_dim_ = k_dim;
  v_dim_ = v_dim;
  len_ = 0;
  layer_k_ = size_t(batch * capacity * k_dim);
  layer_v_ = size_t(batch * capacity * v_dim);
  const size_t floats = size_t(n_layers) * (layer_k_ + layer_v_);
  if (floats * 4 >= kHugeCacheBytes) {
    if (huge_.size() < floats * 4) huge_ = HugePageBuffer(floats * 4, "KV cache");
    base_ = reinterpret_cast<float*>(huge_.data());
  } else {
    if (small_.size() < floats) small_.resize(floats);
    base_ = small_.data();
  }
  mask_.assign(size_t(batch * capacity), 0);
}

void KVCache::reorder_rows(const int64_t* src) {
  for (int64_t b = 0; b < batch_; ++b)
    IA_CHECK(src[b] >= 0 && src[b] < batch_, "KV cache: reorder source row ", src[b], " out of range (batch ", batch_, ")");
  auto permute = [&](float* buf, int64_t dim) {
    const size_t row = size_t(capacity_ * dim), used = size_t(len_ * dim);
    if (scratch_.size() < size_t(batch_) * row) scratch_.resize(size_t(batch_) * row);
    for (int64_t b = 0; b < batch_; ++b)
      std::memcpy(scratch_.data() + size_t(b) * row, buf + size_t(src[b]) * row, used * 4);
    for (int64_t b = 0; b < batch_; ++b) std::memcpy(buf + size_t(b) * row, scratch_.data() + size_t(b) * row, used * 4);
  };
  for (int64_t l = 0; l < n_layers_; ++l) {
    permute(keys_mut(l), k_dim_);
    permute(values_mut(l), v_dim_);
  }
  mask_scratch_ = mask_;
  for (int64_t b = 0; b < batch_; ++b)
    std::memcpy(mask_.data() + b * capacity_, mask_scratch_.data() + src[b] * capacity_, size_t(capacity_) * 8);
}

void KVCache::write(int64_t layer, int64_t t, const float* k, int64_t k_stride, const float* v, int64_t v_stride) {
  IA_CHECK(len_ + t <= capacity_, "KV cache: ", len_, " + ", t, " positions exceed the capacity ", capacity_);
  float* kd = keys_mut(layer);
  float* vd = values_mut(layer);
  for (int64_t b = 0; b < batch_; ++b)
    for (int64_t i = 0; i < t; ++i) {
      std::memcpy(kd + (b * capacity_ + len_ + i) * k_dim_, k + (b * t + i) * k_stride, size_t(k_dim_) * 4);
      std::memcpy(vd + (b * capacity_ + len_ + i) * v_dim_, v + (b * t + i) * v_stride, size_t(v_dim_) * 4);
    }
}

void KVCache::write_step_cols(int64_t layer, const float* k, int64_t k_stride, int64_t c0, int64_t c1, const float* v,
                              int64_t v_stride, int64_t vc0, int64_t vc1) {
  float* kd = keys_mut(layer);
  float* vd = values_mut(layer);
  for (int64_t b = 0; b < batch_; ++b) {
    if (c1 > c0) std::memcpy(kd + (b * capacity_ + len_) * k_dim_ + c0, k + b * k_stride + c0, size_t(c1 - c0) * 4);
    if (vc1 > vc0) std::memcpy(vd + (b * capacity_ + len_) * v_dim_ + vc0, v + b * v_stride + vc0, size_t(vc1 - vc0) * 4);
  }
}

void KVCache::append_mask(int64_t t, const int64_t* mask) {
  IA_CHECK(len_ + t <= capacity_, "KV cache: ", len_, " + ", t, " positions exceed the capacity ", capacity_);
  for (int64_t b = 0; b < batch_; ++b)
    for (int64_t i = 0; i < t; ++i) mask_[size_t(b * capacity_ + len_ + i)] = mask ? mask[b * t + i] : 1;
}

void KVCache::advance(int64_t t) { len_ += t; }

}  // namespace ia
