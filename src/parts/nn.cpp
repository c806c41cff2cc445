#include "parts/nn.h"

#include <cstring>

#include "core/error.h"

namespace ia {

Linear Linear::load(const Weights& w, int64_t in, int64_t out, bool bias) {
  Linear l;
  l.in = in;
  l.out = out;
  l.weight = w.get_raw("weight", {out, in});
  if (!dtype_is_float(l.weight.dtype()) || l.weight.dtype() == DType::F64) l.weight = l.weight.to_f32();
  if (bias) l.bias = w.get("bias", {out});
  return l;
}

Linear Linear::load_auto_bias(const Weights& w, int64_t in, int64_t out) { return load(w, in, out, w.has("bias")); }

Linear Linear::load_conv1d(const Weights& w, int64_t in, int64_t out) {
  Tensor t = w.get("weight", {in, out});
  Tensor tt = Tensor::f32({out, in});
  const float* s = t.f32();
  float* d = tt.f32();
  for (int64_t i = 0; i < in; ++i)
    for (int64_t o = 0; o < out; ++o) d[o * in + i] = s[i * out + o];
  Linear l;
  l.in = in;
  l.out = out;
  l.weight = tt;
  if (w.has("bias")) l.bias = w.get("bias", {out});
  return l;
}

Linear Linear::from(Tensor weight, Tensor bias) {
  Linear l;
  IA_CHECK(weight.rank() == 2, "Linear::from: weight must be 2-D, got ", shape_str(weight.shape()));
  l.out = weight.dim(0);
  l.in = weight.dim(1);
  l.weight = std::move(weight);
  l.bias = std::move(bias);
  return l;
}

Tensor Linear::forward(const Tensor& x) const {
  IA_CHECK(x.rank() >= 1 && x.dim(-1) == in, "Linear: input ", shape_str(x.shape()), " does not end in ", in);
  Shape s = x.shape();
  s.back() = out;
  Tensor y = Tensor::f32(s);
  forward(x.f32(), x.numel() / in, y.f32());
  return y;
}

LayerNorm LayerNorm::load(const Weights& w, int64_t n, float eps, bool bias) {
  LayerNorm l;
  l.n = n;
  l.eps = eps;
  l.weight = w.get("weight", {n});
  if (bias) l.bias = w.get("bias", {n});
  return l;
}

Tensor LayerNorm::forward(const Tensor& x) const {
  Tensor y = Tensor::f32(x.shape());
  forward(x.f32(), x.numel() / n, y.f32());
  return y;
}

RMSNorm RMSNorm::load(const Weights& w, int64_t n, float eps, float w_offset) {
  RMSNorm r;
  r.n = n;
  r.eps = eps;
  r.w_offset = w_offset;
  r.weight = w.get("weight", {n});
  return r;
}

Tensor RMSNorm::forward(const Tensor& x) const {
  Tensor y = Tensor::f32(x.shape());
  forward(x.f32(), x.numel() / n, y.f32());
  return y;
}

Embedding Embedding::load(const Weights& w, int64_t vocab, int64_t dim) {
  Embedding e;
  e.vocab = vocab;
  e.dim = dim;
  e.table = w.get("weight", {vocab, dim});
  return e;
}

void Embedding::lookup(const int64_t* ids, int64_t n, float* out, const char* what) const {
  const float* t = table.f32();
  for (int64_t i = 0; i < n; ++i) {
    IA_CHECK(ids[i] >= 0 && ids[i] < vocab, what, " ", ids[i], " is outside the embedding table (size ", vocab, ")");
    std::memcpy(out + i * dim, t + ids[i] * dim, size_t(dim) * 4);
  }
}

void Embedding::lookup_add(const int64_t* ids, int64_t n, float* out, const char* what) const {
  const float* t = table.f32();
  for (int64_t i = 0; i < n; ++i) {
    IA_CHECK(ids[i] >= 0 && ids[i] < vocab, what, " ", ids[i], " is outside the embedding table (size ", vocab, ")");
    const float* r = t + ids[i] * dim;
    float* o = out + i * dim;
    for (int64_t j = 0; j < dim; ++j) o[j] += r[j];
  }
}

}  // namespace ia
