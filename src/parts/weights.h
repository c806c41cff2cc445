// Weight access with prefixed names mirroring the PyTorch module tree
// (candle's VarBuilder): Weights(ck).pp("model").pp("layers").pp(3).get("weight").
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "core/tensor.h"
#include "formats/checkpoint.h"

namespace ia {

class Weights {
 public:
  Weights() = default;
  explicit Weights(std::shared_ptr<const Checkpoint> ck, std::string prefix = "")
      : ck_(std::move(ck)), prefix_(std::move(prefix)) {}

  Weights pp(const std::string& name) const;
  Weights pp(int64_t index) const { return pp(std::to_string(index)); }
  const std::string& prefix() const { return prefix_; }
  std::string full(const std::string& name) const { return prefix_.empty() ? name : prefix_ + "." + name; }
  const Checkpoint& checkpoint() const { return *ck_; }
  const std::shared_ptr<const Checkpoint>& checkpoint_ptr() const { return ck_; }

  bool has(const std::string& name) const { return ck_->has(full(name)); }
  // Any tensor below this prefix (+ name)?
  bool has_module(const std::string& name = "") const;

  // F32 copy/view, shape-checked when `expected` is non-empty; errors name file, tensor and shapes.
  Tensor get(const std::string& name, const Shape& expected = {}) const;
  // Original dtype (zero-copy where possible); for large matmul weights kept in F16/BF16.
  Tensor get_raw(const std::string& name, const Shape& expected = {}) const;
  std::optional<Tensor> maybe(const std::string& name, const Shape& expected = {}) const;

 private:
  void check_shape(const std::string& full_name, const Tensor& t, const Shape& expected) const;
  std::shared_ptr<const Checkpoint> ck_;
  std::string prefix_;
};

// Chooses the first prefix under which `probe` exists (e.g. {"bert", ""} for "embeddings.word_embeddings.weight"):
// HF head classes store the base model under a prefix, bare base models do not.
Weights resolve_base(const Weights& root, std::initializer_list<const char*> prefixes, const std::string& probe);

// Weight-normalised parameter (torch weight_norm): w = g * v / ||v|| over all dims but `dim`.
// Falls back to a plain `weight` when the checkpoint stores one.
Tensor get_weight_norm(const Weights& w, const std::string& name, int dim);

}  // namespace ia
