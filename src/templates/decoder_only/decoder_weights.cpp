#include "templates/decoder_only/decoder_weights.h"

#include <cstring>

#include "core/error.h"

namespace ia {

Weights find_base(const Weights& root, const std::vector<std::string>& candidates, const std::string& probe) {
  std::string tried;
  for (const auto& c : candidates) {
    Weights w = c.empty() ? root : root.pp(c);
    if (w.has(probe)) return w;
    tried += cat(tried.empty() ? "" : ", ", "'", w.full(probe), "'");
  }
  fail(root.checkpoint().description(), ": cannot find the base model weights (tried ", tried, ")");
}

Tensor gather_rows(const std::vector<const Tensor*>& parts, const std::vector<std::pair<int, int64_t>>& rows) {
  IA_CHECK(!parts.empty(), "gather_rows: no input tensors");
  const int64_t cols = parts[0]->rank() == 2 ? parts[0]->dim(1) : 1;
  DType dt = parts[0]->dtype();
  bool same = true;
  for (const Tensor* t : parts) {
    IA_CHECK((t->rank() == 2 ? t->dim(1) : 1) == cols, "gather_rows: column count mismatch");
    same = same && t->dtype() == dt;
  }
  bool keep = same && (dt == DType::F32 || dt == DType::F16 || dt == DType::BF16);
  std::vector<Tensor> conv;
  if (!keep) {
    dt = DType::F32;
    for (const Tensor* t : parts) conv.push_back(t->to_f32());
  }
  const size_t es = dtype_size(dt), row_bytes = size_t(cols) * es;
  Shape shape = parts[0]->rank() == 2 ? Shape{int64_t(rows.size()), cols} : Shape{int64_t(rows.size())};
  Tensor out = Tensor::empty(dt, shape);
  auto* dst = static_cast<unsigned char*>(out.raw());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Tensor& src = keep ? *parts[size_t(rows[i].first)] : conv[size_t(rows[i].first)];
    std::memcpy(dst + i * row_bytes, static_cast<const unsigned char*>(src.raw()) + size_t(rows[i].second) * row_bytes,
                row_bytes);
  }
  return out;
}

namespace {

// Source row (part, row) of every canonical [q | k | v] row for a single fused weight.
std::vector<std::pair<int, int64_t>> fused_order(const DecoderParams& p) {
  const int64_t H = p.n_heads, KV = p.n_kv_heads, D = p.head_dim;
  std::vector<std::pair<int, int64_t>> r;
  r.reserve(size_t((H + 2 * KV) * D));
  switch (p.qkv_layout) {
    case QKVLayout::Separate:
    case QKVLayout::Concat:
      for (int64_t i = 0; i < (H + 2 * KV) * D; ++i) r.push_back({0, i});
      break;
    case QKVLayout::PerHead:  // head h: rows [h*3D, h*3D + D) q, then k, then v
      for (int which = 0; which < 3; ++which)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t d = 0; d < D; ++d) r.push_back({0, h * 3 * D + which * D + d});
      break;
    case QKVLayout::PerKVGroup: {  // kv head g: [q * group, k, v]
      const int64_t G = H / KV, stride = (G + 2) * D;
      for (int64_t g = 0; g < KV; ++g)
        for (int64_t d = 0; d < G * D; ++d) r.push_back({0, g * stride + d});
      for (int64_t g = 0; g < KV; ++g)
        for (int64_t d = 0; d < D; ++d) r.push_back({0, g * stride + G * D + d});
      for (int64_t g = 0; g < KV; ++g)
        for (int64_t d = 0; d < D; ++d) r.push_back({0, g * stride + (G + 1) * D + d});
      break;
    }
  }
  return r;
}

}  // namespace

namespace {
LinearGroup group_of(Linear l) {
  LinearGroup g;
  g.add(std::move(l));
  return g;
}
}  // namespace

LinearGroup load_fused_qkv(const DecoderParams& p, const Weights& layer) {
  const int64_t H = p.hidden, Q = p.n_heads * p.head_dim, KVd = p.n_kv_heads * p.head_dim;
  const int64_t total = Q + 2 * KVd;
  if (p.qkv_layout == QKVLayout::Separate) {
    Weights wq = layer.pp(p.q), wk = layer.pp(p.k), wv = layer.pp(p.v);
    // A projection without a stored bias adds nothing, exactly like a zero bias.
    LinearGroup g;
    g.add(Linear::load_auto_bias(wq, H, Q));
    g.add(Linear::load_auto_bias(wk, H, KVd));
    g.add(Linear::load_auto_bias(wv, H, KVd));
    return g;
  }
  Weights wf = layer.pp(p.qkv);
  Linear fused = p.conv1d ? Linear::load_conv1d(wf, H, total) : Linear::load_auto_bias(wf, H, total);
  if (p.qkv_layout == QKVLayout::Concat) return group_of(std::move(fused));
  fused = fused.out_in();
  auto rows = fused_order(p);
  Tensor w = gather_rows({&fused.weight}, rows);
  Tensor bias;
  if (fused.bias.defined()) bias = gather_rows({&fused.bias}, rows);
  return group_of(Linear::from(w, bias));
}

LinearGroup load_mlp_up(const DecoderParams& p, const Weights& layer) {
  const int64_t H = p.hidden, I = p.intermediate;
  if (p.mlp == MlpKind::Plain)
    return group_of(p.conv1d ? Linear::load_conv1d(layer.pp(p.fc), H, I) : Linear::load_auto_bias(layer.pp(p.fc), H, I));
  if (!p.gate_up.empty()) return group_of(Linear::load_auto_bias(layer.pp(p.gate_up), H, 2 * I));
  LinearGroup g;
  g.add(Linear::load_auto_bias(layer.pp(p.gate), H, I));
  g.add(Linear::load_auto_bias(layer.pp(p.up), H, I));
  return g;
}

}  // namespace ia
