#include "parts/nn.h"

#include <algorithm>
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

namespace {
// dst[c, r] = src[r, c] for a rows x cols matrix, in 16x16 tiles so reads and
// writes both stay in L1 (measured ~12x faster than a plain loop or 64x64 tiles,
// whose power-of-two strides collide in the same cache sets).
template <typename T>
void transpose_tiled(const T* src, T* dst, int64_t rows, int64_t cols) {
  constexpr int64_t kTile = 16;
#pragma omp parallel for collapse(2) schedule(static) if (rows * cols > 65536)
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile)
      for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
        for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c) dst[c * rows + r] = src[r * cols + c];
}
}  // namespace

// Conv1D stores [in, out]: kept in place (the GEMV/GEMM read that layout directly),
// so loading costs no copy and F16/BF16 stay as stored.
Linear Linear::load_conv1d(const Weights& w, int64_t in, int64_t out) {
  Linear l;
  l.in = in;
  l.out = out;
  l.weight = w.get_raw("weight", {in, out});
  if (!dtype_is_float(l.weight.dtype()) || l.weight.dtype() == DType::F64) l.weight = l.weight.to_f32();
  l.layout = cpu::WeightLayout::InOut;
  if (w.has("bias")) l.bias = w.get("bias", {out});
  return l;
}

Linear Linear::out_in() const {
  if (layout == cpu::WeightLayout::OutIn) return *this;
  Tensor t = weight;
  if (t.dtype() != DType::F32 && t.dtype() != DType::F16 && t.dtype() != DType::BF16) t = t.to_f32();
  Tensor tt = Tensor::empty(t.dtype(), {out, in});
  if (dtype_size(t.dtype()) == 4)
    transpose_tiled(static_cast<const uint32_t*>(t.raw()), static_cast<uint32_t*>(tt.raw()), in, out);
  else
    transpose_tiled(static_cast<const uint16_t*>(t.raw()), static_cast<uint16_t*>(tt.raw()), in, out);
  Linear l = *this;
  l.weight = tt;
  l.layout = cpu::WeightLayout::OutIn;
  return l;
}

void LinearGroup::add(Linear l) {
  IA_CHECK(int(parts.size()) < kMaxParts, "LinearGroup: more than ", kMaxParts, " projections");
  IA_CHECK(parts.empty() || l.in == in, "LinearGroup: projection takes ", l.in, " inputs, the group ", in);
  in = l.in;
  out += l.out;
  parts.push_back(std::move(l));
}

void LinearGroup::forward(const float* x, int64_t rows, float* y) const {
  cpu::LinearPart p[kMaxParts];
  const int n = int(parts.size());
  for (int i = 0; i < n; ++i) p[i] = parts[size_t(i)].part();
  cpu::linear_parts(x, rows, in, p, n, y, out);
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
