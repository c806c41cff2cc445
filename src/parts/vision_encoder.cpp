#include "parts/vision_encoder.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/attention.h"

namespace ia {

namespace {

// Stacks q, k, v weights (same dtype, [H, H] each) into one [3H, H] tensor; biases
// that some projections lack become zeros so one GEMM serves all three.
Linear fuse_qkv(const Weights& lw, const VisionEncoderNames& n, int64_t H) {
  Linear q = Linear::load_auto_bias(lw.pp(n.q), H, H);
  Linear k = Linear::load_auto_bias(lw.pp(n.k), H, H);
  Linear v = Linear::load_auto_bias(lw.pp(n.v), H, H);
  DType dt = q.weight.dtype();
  if (k.weight.dtype() != dt || v.weight.dtype() != dt) {
    q.weight = q.weight.to_f32();
    k.weight = k.weight.to_f32();
    v.weight = v.weight.to_f32();
    dt = DType::F32;
  }
  Tensor w = Tensor::empty(dt, {3 * H, H});
  const size_t part = q.weight.nbytes();
  auto* dst = static_cast<unsigned char*>(w.raw());
  std::memcpy(dst, q.weight.raw(), part);
  std::memcpy(dst + part, k.weight.raw(), part);
  std::memcpy(dst + 2 * part, v.weight.raw(), part);
  Tensor b;
  if (q.bias.defined() || k.bias.defined() || v.bias.defined()) {
    b = Tensor::zeros(DType::F32, {3 * H});
    const Linear* parts[3] = {&q, &k, &v};
    for (int i = 0; i < 3; ++i)
      if (parts[i]->bias.defined()) std::memcpy(b.f32() + i * H, parts[i]->bias.f32(), size_t(H) * 4);
  }
  return Linear::from(w, b);
}

}  // namespace

VisionEncoder VisionEncoder::load(const VisionEncoderSpec& spec, const Weights& layers, const VisionEncoderNames& n) {
  IA_CHECK(spec.hidden > 0 && spec.heads > 0 && spec.intermediate > 0 && spec.layers >= 0, spec.who,
           ": encoder sizes must be positive (hidden_size ", spec.hidden, ", num_attention_heads ", spec.heads,
           ", intermediate_size ", spec.intermediate, ", num_hidden_layers ", spec.layers, ")");
  IA_CHECK(spec.hidden % spec.heads == 0, spec.who, ": hidden_size ", spec.hidden,
           " is not a multiple of num_attention_heads ", spec.heads);
  VisionEncoder e;
  e.spec_ = spec;
  const int64_t H = spec.hidden, I = spec.intermediate;
  e.layers_.resize(size_t(spec.layers));
  for (int64_t i = 0; i < spec.layers; ++i) {
    Weights lw = layers.pp(i);
    Layer& L = e.layers_[size_t(i)];
    L.ln1 = LayerNorm::load(lw.pp(n.ln1), H, spec.eps);
    L.ln2 = LayerNorm::load(lw.pp(n.ln2), H, spec.eps);
    L.qkv = n.qkv.empty() ? fuse_qkv(lw, n, H) : Linear::load_auto_bias(lw.pp(n.qkv), H, 3 * H);
    L.o = Linear::load_auto_bias(lw.pp(n.o), H, H);
    L.fc1 = Linear::load_auto_bias(lw.pp(n.fc1), H, I);
    L.fc2 = Linear::load_auto_bias(lw.pp(n.fc2), I, H);
  }
  return e;
}

void VisionEncoder::forward(Tensor& x, const int64_t* key_mask, bool causal, std::vector<Tensor>* hidden_states,
                            int64_t n_layers) const {
  const VisionEncoderSpec& s = spec_;
  IA_CHECK(x.rank() == 3 && x.dim(2) == s.hidden && x.dtype() == DType::F32, s.who,
           ": encoder input must be F32 [batch, seq, ", s.hidden, "], got ", shape_str(x.shape()));
  const int64_t B = x.dim(0), T = x.dim(1), N = B * T, H = s.hidden, I = s.intermediate, D = H / s.heads;
  if (n_layers < 0 || n_layers > s.layers) n_layers = s.layers;
  std::vector<float> h(size_t(N * H)), qkv(size_t(N * 3 * H)), att(size_t(N * H)), mid(size_t(N * I));
  float* xd = x.f32();
  if (hidden_states) hidden_states->push_back(x.clone());

  AttentionSpec spec;
  spec.n_heads = spec.n_kv_heads = s.heads;
  spec.head_dim = D;
  spec.scale = float(1.0 / std::sqrt(double(D)));
  spec.causal = causal;
  AttentionArgs a;
  a.B = B;
  a.Tq = a.Tk = T;
  a.q = qkv.data();
  a.k = qkv.data() + H;
  a.v = qkv.data() + 2 * H;
  a.q_row = a.k_row = a.v_row = 3 * H;
  a.q_batch = a.k_batch = a.v_batch = T * 3 * H;
  a.out = att.data();
  a.out_row = H;
  a.out_batch = T * H;
  a.key_mask = key_mask;
  a.key_mask_batch = T;

  for (int64_t l = 0; l < n_layers; ++l) {
    const Layer& L = layers_[size_t(l)];
    L.ln1.forward(xd, N, h.data());
    L.qkv.forward(h.data(), N, qkv.data());
    attention(spec, a);
    L.o.forward(att.data(), N, h.data());
    cpu::add_inplace(xd, h.data(), N * H);
    L.ln2.forward(xd, N, h.data());
    L.fc1.forward(h.data(), N, mid.data());
    cpu::apply_act(s.act, mid.data(), N * I);
    L.fc2.forward(mid.data(), N, h.data());
    cpu::add_inplace(xd, h.data(), N * H);
    if (hidden_states) hidden_states->push_back(x.clone());
  }
}

}  // namespace ia
