#include "parts/weights.h"

#include <cmath>

#include "core/error.h"

namespace ia {

Weights Weights::pp(const std::string& name) const { return Weights(ck_, full(name)); }

bool Weights::has_module(const std::string& name) const {
  std::string p = name.empty() ? prefix_ : full(name);
  return ck_->has_prefix(p.empty() ? "" : p + ".");
}

void Weights::check_shape(const std::string& full_name, const Tensor& t, const Shape& expected) const {
  if (expected.empty()) return;
  IA_CHECK(t.shape() == expected, ck_->file_of(full_name), ": tensor '", full_name, "' has shape ", shape_str(t.shape()),
           " but the config implies ", shape_str(expected));
}

Tensor Weights::get_raw(const std::string& name, const Shape& expected) const {
  std::string f = full(name);
  IA_CHECK(ck_->has(f), ck_->description(), ": missing tensor '", f, "'");
  Tensor t = ck_->get(f);
  check_shape(f, t, expected);
  return t;
}

Tensor Weights::get(const std::string& name, const Shape& expected) const {
  Tensor t = get_raw(name, expected);
  IA_CHECK(dtype_is_float(t.dtype()) || t.dtype() == DType::I64 || t.dtype() == DType::I32 || t.dtype() == DType::BOOL ||
               t.dtype() == DType::U8,
           ck_->file_of(full(name)), ": tensor '", full(name), "' has dtype ", dtype_name(t.dtype()));
  return t.dtype() == DType::F32 ? t : t.to_f32();
}

std::optional<Tensor> Weights::maybe(const std::string& name, const Shape& expected) const {
  if (!has(name)) return std::nullopt;
  return get(name, expected);
}

Weights resolve_base(const Weights& root, std::initializer_list<const char*> prefixes, const std::string& probe) {
  for (const char* p : prefixes) {
    Weights w = std::string(p).empty() ? root : root.pp(p);
    if (w.has(probe)) return w;
  }
  std::string tried;
  for (const char* p : prefixes) tried += cat(tried.empty() ? "" : ", ", "'", std::string(p).empty() ? "" : std::string(p) + ".", probe, "'");
  fail(root.checkpoint().description(), ": cannot find the base model weights (tried ", tried, ")");
}

Tensor get_weight_norm(const Weights& w, const std::string& name, int dim) {
  if (w.has(name + ".weight")) return w.get(name + ".weight");
  Tensor g = w.get(name + ".weight_g");
  Tensor v = w.get(name + ".weight_v");
  IA_CHECK(dim >= 0 && dim < v.rank(), w.full(name), ": weight_norm dim ", dim, " out of range");
  IA_CHECK(v.numel() > 0, w.full(name), ".weight_v is empty (shape ", shape_str(v.shape()), ")");
  Tensor out = Tensor::f32(v.shape());
  const int64_t outer = [&] { int64_t o = 1; for (int i = 0; i < dim; ++i) o *= v.dim(i); return o; }();
  const int64_t d = v.dim(dim);
  const int64_t inner = v.numel() / (outer * d);
  IA_CHECK(g.numel() == d, w.full(name), ".weight_g has ", g.numel(), " elements, expected ", d);
  const float* vp = v.f32();
  float* op = out.f32();
  for (int64_t j = 0; j < d; ++j) {
    double ss = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        double x = vp[(o * d + j) * inner + i];
        ss += x * x;
      }
    float s = float(g.f32()[j] / std::sqrt(ss));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) op[(o * d + j) * inner + i] = vp[(o * d + j) * inner + i] * s;
  }
  return out;
}

}  // namespace ia
