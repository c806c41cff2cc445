#include "parts/moe_ffn.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/moe_analytics.h"

namespace ia {

namespace {

template <typename T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

MoeFfn MoeFfn::load(const MoeParams& p, const Weights& layer, int64_t hidden, cpu::Act act) {
  IA_CHECK(p.n_experts > 0, "MoeFfn: the config declares no experts");
  IA_CHECK(p.top_k > 0 && p.top_k <= p.n_experts, "MoeFfn: num_experts_per_tok (", p.top_k, ") must be in 1..",
           p.n_experts, " (the number of experts)");
  IA_CHECK(p.expert_intermediate > 0, "MoeFfn: the expert intermediate size must be positive, got ",
           p.expert_intermediate);
  MoeFfn m;
  m.hidden_ = hidden;
  m.n_experts_ = p.n_experts;
  m.top_k_ = p.top_k;
  m.inter_ = p.expert_intermediate;
  m.norm_topk_ = p.norm_topk;
  m.act_ = act;
  Weights b = layer.pp(p.block);
  m.router_ = Linear::load(b.pp(p.router), hidden, p.n_experts, false);
  const int64_t I = p.expert_intermediate;
  for (int64_t e = 0; e < p.n_experts; ++e) {
    Weights ew = b.pp(p.experts).pp(e);
    m.gate_.push_back(Linear::load(ew.pp(p.e_gate), hidden, I, false));
    m.up_.push_back(Linear::load(ew.pp(p.e_up), hidden, I, false));
    m.down_.push_back(Linear::load(ew.pp(p.e_down), I, hidden, false));
  }
  if (p.shared_intermediate > 0) {
    const int64_t S = p.shared_intermediate;
    m.shared_inter_ = S;
    Weights sw = b.pp(p.shared);
    m.shared_gate_proj_ = Linear::load(sw.pp(p.e_gate), hidden, S, false);
    m.shared_up_ = Linear::load(sw.pp(p.e_up), hidden, S, false);
    m.shared_down_ = Linear::load(sw.pp(p.e_down), S, hidden, false);
    m.shared_gate_ = Linear::load(b.pp(p.shared_gate), hidden, 1, false);
  }
  return m;
}

void MoeFfn::set_top_k(int64_t k) {
  IA_CHECK(k >= 1 && k <= n_experts_, "num_experts_per_tok override ", k, " must be in 1..", n_experts_);
  top_k_ = k;
}

void MoeFfn::mlp(const Linear& gate, const Linear& up, const Linear& down, const float* x, int64_t rows, float* y) {
  const int64_t I = gate.out;
  grow(g_, size_t(rows * I));
  grow(u_, size_t(rows * I));
  gate.forward(x, rows, g_.data());
  up.forward(x, rows, u_.data());
  cpu::apply_act(act_, g_.data(), rows * I);
  cpu::mul_inplace(g_.data(), u_.data(), rows * I);
  down.forward(g_.data(), rows, y);
}

void MoeFfn::expert_forward(int64_t e, const float* x, int64_t rows, float* y) {
  IA_CHECK(e >= 0 && e < n_experts_, "MoeFfn: expert ", e, " out of range (", n_experts_, " experts)");
  mlp(gate_[size_t(e)], up_[size_t(e)], down_[size_t(e)], x, rows, y);
}

// Router logits -> float softmax -> top-k (descending, lower id first on ties) -> optional renormalisation.
void MoeFfn::route(const float* x, int64_t rows) {
  const int64_t E = n_experts_, k = top_k_;
  last_rows_ = rows;
  grow(logits_, size_t(rows * E));
  logits_.resize(size_t(rows * E));
  grow(probs_, size_t(rows * E));
  sel_.resize(size_t(rows * k));
  wsel_.resize(size_t(rows * k));
  router_.forward(x, rows, logits_.data());
  std::memcpy(probs_.data(), logits_.data(), size_t(rows * E) * 4);
  for (int64_t r = 0; r < rows; ++r) {
    float* pr = probs_.data() + r * E;
    cpu::softmax_inplace(pr, E);
    int32_t* ids = sel_.data() + r * k;
    float* w = wsel_.data() + r * k;
    for (int64_t j = 0; j < k; ++j) {  // k is small: repeated arg-max beats sorting
      int32_t best = -1;
      for (int64_t e = 0; e < E; ++e) {
        bool taken = false;
        for (int64_t q = 0; q < j; ++q) taken = taken || ids[q] == e;
        if (!taken && (best < 0 || pr[e] > pr[best])) best = int32_t(e);
      }
      ids[j] = best;
      w[j] = pr[best];
    }
    if (norm_topk_) {
      float s = 0.f;
      for (int64_t j = 0; j < k; ++j) s += w[j];
      for (int64_t j = 0; j < k; ++j) w[j] /= s;
    }
  }
  if (recorder_) recorder_->record(layer_, sel_.data(), wsel_.data(), rows, k);
}

void MoeFfn::add_shared(const float* x, int64_t rows, float* y) {
  if (shared_inter_ == 0) return;
  const int64_t H = hidden_;
  grow(out_, size_t(rows * H));
  grow(gate_val_, size_t(rows));
  mlp(shared_gate_proj_, shared_up_, shared_down_, x, rows, out_.data());
  shared_gate_.forward(x, rows, gate_val_.data());
  for (int64_t r = 0; r < rows; ++r) {
    const float g = 1.f / (1.f + std::exp(-gate_val_[size_t(r)]));
    const float* s = out_.data() + r * H;
    float* yr = y + r * H;
    for (int64_t c = 0; c < H; ++c) yr[c] = yr[c] + g * s[c];
  }
}

void MoeFfn::forward(const float* x, int64_t rows, float* y) {
  const int64_t H = hidden_, k = top_k_;
  route(x, rows);
  std::fill(y, y + rows * H, 0.f);
  grow(tok_, size_t(rows));
  grow(tokw_, size_t(rows));
  grow(xin_, size_t(rows * H));
  // Experts in ascending order (the order transformers accumulates them in).
  for (int64_t e = 0; e < n_experts_; ++e) {
    int64_t n = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < k; ++j)
        if (sel_[size_t(r * k + j)] == e) {
          tok_[size_t(n)] = r;
          tokw_[size_t(n)] = wsel_[size_t(r * k + j)];
          ++n;
        }
    if (n == 0) continue;
    for (int64_t i = 0; i < n; ++i) std::memcpy(xin_.data() + i * H, x + tok_[size_t(i)] * H, size_t(H) * 4);
    grow(out_, size_t(n * H));
    expert_forward(e, xin_.data(), n, out_.data());
    for (int64_t i = 0; i < n; ++i) {
      float* yr = y + tok_[size_t(i)] * H;
      const float* o = out_.data() + i * H;
      const float w = tokw_[size_t(i)];
      for (int64_t c = 0; c < H; ++c) yr[c] += o[c] * w;
    }
  }
  add_shared(x, rows, y);
}

void MoeFfn::forward_naive(const float* x, int64_t rows, float* y) {
  const int64_t H = hidden_, k = top_k_;
  route(x, rows);
  std::vector<float> o(static_cast<size_t>(H));
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * H;
    std::fill(yr, yr + H, 0.f);
    // Same accumulation order as forward(): ascending expert id.
    std::vector<std::pair<int32_t, float>> picks;
    for (int64_t j = 0; j < k; ++j) picks.push_back({sel_[size_t(r * k + j)], wsel_[size_t(r * k + j)]});
    std::sort(picks.begin(), picks.end());
    for (const auto& [e, w] : picks) {
      expert_forward(e, x + r * H, 1, o.data());
      for (int64_t c = 0; c < H; ++c) yr[c] += o[size_t(c)] * w;
    }
  }
  add_shared(x, rows, y);
}

}  // namespace ia
