#include "verify/diffusion_fixture_common.h"

#include <cmath>
#include <cstring>
#include <functional>

namespace ia::diffusion_verify {

Tensor spec_tensor(const json& spec, const SafetensorsFile& st, const std::string& what) {
  if (spec.is_object() && spec.contains("same_as")) return st.tensor(spec["same_as"].get<std::string>());
  if (spec.is_object() && spec.contains("tensor") && st.has(spec["tensor"].get<std::string>()))
    return st.tensor(spec["tensor"].get<std::string>());
  IA_CHECK(spec.is_object() && spec.contains("values"), what, ": reference has neither a stored tensor nor values");
  std::vector<double> v;
  std::function<void(const json&)> flat = [&](const json& j) {
    if (j.is_array()) for (const auto& e : j) flat(e);
    else v.push_back(j.get<double>());
  };
  flat(spec["values"]);
  const Shape shape = spec.value("shape", Shape{int64_t(v.size())});
  if (spec.value("dtype", "float32") == "int64") {
    std::vector<int64_t> iv(v.begin(), v.end());
    return Tensor::from_vector_i64(iv, shape);
  }
  return Tensor::from_vector(std::vector<float>(v.begin(), v.end()), shape);
}

bool check_output(const std::string& name, const json& spec, const Tensor& got, const SafetensorsFile& st,
                  CaseResult& r) {
  if (!got.defined()) {
    fail_case(r, cat(name, ": not produced by the engine"));
    return false;
  }
  const Tensor want = spec_tensor(spec, st, name);
  if (got.shape() != want.shape()) {
    fail_case(r, cat(name, ": shape ", shape_str(got.shape()), " != reference ", shape_str(want.shape())));
    return false;
  }
  const int64_t n = want.numel();
  if (!dtype_is_float(want.dtype())) {
    IA_CHECK(!dtype_is_float(got.dtype()), name, ": engine gives floats where the reference stores ",
             "integers");
    const Tensor g = got.to_i64(), w = want.to_i64();
    for (int64_t i = 0; i < n; ++i) {
      const double d = std::fabs(double(g.i64()[i] - w.i64()[i]));
      r.max_abs_err = std::max(r.max_abs_err, d);
      if (d != 0) {
        fail_case(r, cat(name, ": first differs at flat index ", i, ": got ", g.i64()[i], ", reference ", w.i64()[i]));
        return false;
      }
    }
    return true;
  }
  const double atol = spec.value("atol", 1e-4), rtol = spec.value("rtol", 0.0);
  const Tensor g = got.to_f32(), w = want.to_f32();
  for (int64_t i = 0; i < n; ++i) {
    const double a = g.f32()[i], b = w.f32()[i];
    double d = std::fabs(a - b);
    if (std::isnan(d)) d = INFINITY;
    r.max_abs_err = std::max(r.max_abs_err, d);
    if (!(d <= atol + rtol * std::fabs(b))) {
      fail_case(r, cat(name, ": first differs at flat index ", i, " of ", shape_str(w.shape()), ": got ", a,
                       ", reference ", b, " (atol ", atol, ", rtol ", rtol, ")"));
      return false;
    }
  }
  return true;
}

bool check_scalar(const std::string& name, double want, double got, CaseResult& r) {
  const double d = std::fabs(got - want);
  r.max_abs_err = std::max(r.max_abs_err, d);
  if (!(d <= 1e-4 + 1e-4 * std::fabs(want))) {
    fail_case(r, cat(name, ": got ", got, ", reference ", want));
    return false;
  }
  return true;
}

Tensor slice0(const Tensor& t_in, int64_t i) {
  const Tensor t = t_in.dtype() == DType::F32 ? t_in : t_in.to_f32();
  IA_CHECK(t.rank() >= 1 && i >= 0 && i < t.dim(0), "slice ", i, " of a tensor of shape ", shape_str(t.shape()));
  Shape sh(t.shape().begin() + 1, t.shape().end());
  Tensor out = Tensor::f32(sh);
  const int64_t per = out.numel();
  std::memcpy(out.f32(), t.f32() + i * per, size_t(per) * 4);
  return out;
}

Tensor stack0(const std::vector<Tensor>& parts) {
  IA_CHECK(!parts.empty(), "stack of no tensors");
  Shape sh = parts[0].shape();
  sh.insert(sh.begin(), int64_t(parts.size()));
  Tensor out = Tensor::f32(sh);
  const int64_t per = parts[0].numel();
  for (size_t k = 0; k < parts.size(); ++k) {
    IA_CHECK(parts[k].shape() == parts[0].shape(), "stack: shape ", shape_str(parts[k].shape()), " != ",
             shape_str(parts[0].shape()));
    const Tensor p = parts[k].to_f32();
    std::memcpy(out.f32() + int64_t(k) * per, p.f32(), size_t(per) * 4);
  }
  return out;
}

}  // namespace ia::diffusion_verify
