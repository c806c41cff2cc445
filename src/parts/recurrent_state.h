// Recurrent state: the state-space models' cache, the counterpart of KVCache.
// A model declares named per-layer slots (Mamba: conv window + SSM state;
// RWKV: the 5 vectors of 4.44's `state` list) and the state is sized once per
// batch. Its size does not depend on sequence length, so decoding any number of
// tokens never allocates. The state after any prefix can be written to a
// safetensors file and read back to continue exactly where it stopped.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ia {

class RecurrentState {
 public:
  struct Slot {
    std::string name;  // e.g. "conv", "ssm", "att_num"
    Shape row_shape;   // shape of one batch row's state in one layer
    float init = 0.f;  // value a fresh state starts from (RWKV's running max: -1e30)
  };

  // Declares the layout; resets to batch 0 (nothing allocated).
  void configure(int64_t n_layers, std::vector<Slot> slots);
  // Sizes the state for `batch` rows and fills every slot with its initial value;
  // memory is kept when the new size fits the old allocation.
  void reset(int64_t batch);

  int64_t n_layers() const { return n_layers_; }
  int64_t batch() const { return batch_; }
  // Tokens consumed per row since reset()/load() (what a KV cache's length would be).
  int64_t tokens() const { return tokens_; }
  void advance(int64_t t) { tokens_ += t; }
  bool fresh() const { return tokens_ == 0; }

  const std::vector<Slot>& slots() const { return slots_; }
  int64_t row_size(int slot) const { return row_size_[size_t(slot)]; }
  // [batch, row_size(slot)] floats of `layer`.
  float* data(int64_t layer, int slot) { return buf_.data() + offset(layer, slot); }
  const float* data(int64_t layer, int slot) const { return buf_.data() + offset(layer, slot); }

  // Bytes the state occupies for the current batch / for one row.
  size_t bytes() const { return size_t(batch_) * bytes_per_row(); }
  size_t bytes_per_row() const;

  // Writes every slot as "layers.<i>.<slot>" [batch, row_shape...] F32, plus metadata
  // (`meta` and the token count) to a safetensors file.
  void save(const std::string& path, const std::map<std::string, std::string>& meta) const;
  // Reads a file written by save(). Every key in `expect` must be present with the same
  // value (model type, config hash); slot names and shapes must match the layout.
  // The batch size is taken from the file.
  void load(const std::string& path, const std::map<std::string, std::string>& expect);

 private:
  size_t offset(int64_t layer, int slot) const {
    return size_t(layer) * layer_stride_ + size_t(batch_) * slot_offset_[size_t(slot)];
  }
  int64_t n_layers_ = 0, batch_ = 0, tokens_ = 0;
  std::vector<Slot> slots_;
  std::vector<int64_t> row_size_;
  std::vector<size_t> slot_offset_;  // per-row offset of each slot within one layer's block
  size_t layer_stride_ = 0;          // floats per layer for the current batch
  std::vector<float> buf_;
};

}  // namespace ia
