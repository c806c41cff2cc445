// A dense, row-major tensor over shared storage. Storage is either an owned,
// 64-byte aligned buffer or a view into a memory-mapped checkpoint that the
// tensor keeps alive. Compute happens in F32; other dtypes are converted with
// to_f32() or read directly by kernels that understand them (F16/BF16 weights).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace ia {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

class Tensor {
 public:
  Tensor() = default;

  static Tensor empty(DType t, Shape shape);
  static Tensor zeros(DType t, Shape shape);
  static Tensor f32(Shape shape) { return empty(DType::F32, std::move(shape)); }
  static Tensor from_vector(const std::vector<float>& v, Shape shape);
  static Tensor from_vector_i64(const std::vector<int64_t>& v, Shape shape);
  // A view of external memory; `owner` keeps that memory alive.
  static Tensor view(DType t, Shape shape, const void* data, std::shared_ptr<const void> owner);

  bool defined() const { return data_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : i); }
  int rank() const { return int(shape_.size()); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype_); }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  float* f32();
  const float* f32() const;
  int64_t* i64();
  const int64_t* i64() const;

  // Same storage, new shape (element count must match).
  Tensor reshape(Shape shape) const;
  // Deep copy converted to F32 (a no-op copy for F32) / I64.
  Tensor to_f32() const;
  Tensor to_i64() const;
  Tensor clone() const;

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  std::shared_ptr<const void> owner_;
  void* data_ = nullptr;
};

}  // namespace ia
