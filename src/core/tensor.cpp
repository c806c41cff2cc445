#include "core/tensor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/error.h"

namespace ia {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << ']';
  return os.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Tensor Tensor::empty(DType t, Shape shape) {
  for (int64_t d : shape) IA_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
  Tensor r;
  r.dtype_ = t;
  r.shape_ = std::move(shape);
  size_t bytes = r.nbytes();
  size_t alloc = (bytes + 63) / 64 * 64;
  if (alloc == 0) alloc = 64;
  void* p = std::aligned_alloc(64, alloc);
  IA_CHECK(p != nullptr, "out of memory allocating ", alloc, " bytes for tensor ", shape_str(r.shape_));
  r.owner_ = std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); });
  r.data_ = p;
  return r;
}

Tensor Tensor::zeros(DType t, Shape shape) {
  Tensor r = empty(t, std::move(shape));
  std::memset(r.data_, 0, r.nbytes());
  return r;
}

Tensor Tensor::from_vector(const std::vector<float>& v, Shape shape) {
  Tensor r = empty(DType::F32, std::move(shape));
  IA_CHECK(size_t(r.numel()) == v.size(), "from_vector: ", v.size(), " values for shape ", shape_str(r.shape_));
  if (!v.empty()) std::memcpy(r.data_, v.data(), v.size() * 4);
  return r;
}

Tensor Tensor::from_vector_i64(const std::vector<int64_t>& v, Shape shape) {
  Tensor r = empty(DType::I64, std::move(shape));
  IA_CHECK(size_t(r.numel()) == v.size(), "from_vector_i64: ", v.size(), " values for shape ", shape_str(r.shape_));
  if (!v.empty()) std::memcpy(r.data_, v.data(), v.size() * 8);
  return r;
}

Tensor Tensor::view(DType t, Shape shape, const void* data, std::shared_ptr<const void> owner) {
  Tensor r;
  r.dtype_ = t;
  r.shape_ = std::move(shape);
  r.owner_ = std::move(owner);
  r.data_ = const_cast<void*>(data);
  return r;
}

float* Tensor::f32() {
  IA_CHECK(dtype_ == DType::F32, "tensor is ", dtype_name(dtype_), ", F32 expected");
  return static_cast<float*>(data_);
}
const float* Tensor::f32() const {
  IA_CHECK(dtype_ == DType::F32, "tensor is ", dtype_name(dtype_), ", F32 expected");
  return static_cast<const float*>(data_);
}
int64_t* Tensor::i64() {
  IA_CHECK(dtype_ == DType::I64, "tensor is ", dtype_name(dtype_), ", I64 expected");
  return static_cast<int64_t*>(data_);
}
const int64_t* Tensor::i64() const {
  IA_CHECK(dtype_ == DType::I64, "tensor is ", dtype_name(dtype_), ", I64 expected");
  return static_cast<const int64_t*>(data_);
}

Tensor Tensor::reshape(Shape shape) const {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      IA_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = int64_t(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    IA_CHECK(known > 0 && numel() % known == 0, "reshape: cannot infer ", shape_str(shape), " from ", shape_str(shape_));
    shape[size_t(infer)] = numel() / known;
  }
  IA_CHECK(shape_numel(shape) == numel(), "reshape: ", shape_str(shape_), " -> ", shape_str(shape), " changes element count");
  Tensor r = *this;
  r.shape_ = std::move(shape);
  return r;
}

Tensor Tensor::to_f32() const {
  IA_CHECK(defined(), "to_f32: tensor is undefined (never assigned)");
  Tensor r = empty(DType::F32, shape_);
  convert_to_f32(dtype_, data_, static_cast<float*>(r.data_), size_t(numel()));
  return r;
}

Tensor Tensor::to_i64() const {
  IA_CHECK(defined(), "to_i64: tensor is undefined (never assigned)");
  Tensor r = empty(DType::I64, shape_);
  int64_t* out = static_cast<int64_t*>(r.data_);
  const auto* b = static_cast<const unsigned char*>(data_);
  size_t n = size_t(numel());
  switch (dtype_) {
    case DType::I64: if (n) std::memcpy(out, data_, n * 8); break;
    case DType::I32: for (size_t i = 0; i < n; ++i) { int32_t v; std::memcpy(&v, b + 4 * i, 4); out[i] = v; } break;
    case DType::I16: for (size_t i = 0; i < n; ++i) { int16_t v; std::memcpy(&v, b + 2 * i, 2); out[i] = v; } break;
    case DType::I8: for (size_t i = 0; i < n; ++i) out[i] = static_cast<const int8_t*>(data_)[i]; break;
    case DType::U8: case DType::BOOL: for (size_t i = 0; i < n; ++i) out[i] = b[i]; break;
    default: {
      std::vector<float> tmp(n);
      convert_to_f32(dtype_, data_, tmp.data(), n);
      // Saturate (NaN -> 0): converting an out-of-range float to int64 is undefined behaviour.
      for (size_t i = 0; i < n; ++i) {
        float v = tmp[i];
        out[i] = std::isnan(v) ? 0 : v >= 9.2233720368547758e18f ? INT64_MAX : v < -9.2233720368547758e18f ? INT64_MIN : int64_t(v);
      }
    }
  }
  return r;
}

Tensor Tensor::clone() const {
  IA_CHECK(defined(), "clone: tensor is undefined (never assigned)");
  Tensor r = empty(dtype_, shape_);
  if (nbytes()) std::memcpy(r.data_, data_, nbytes());
  return r;
}

}  // namespace ia
