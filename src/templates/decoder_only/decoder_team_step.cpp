// The decode step (one new token per row) of DecoderModel with the whole layer stack
// inside ONE OpenMP parallel region. The generic layer loop in run() opens a region
// per projection and runs the norms, rotary, cache write, activation and residual
// adds on one thread in between: ~5 fork/joins per layer plus serial stretches that
// at two threads cost a third of the GEMV time (profiled on GPT-2), and on a busy
// machine every fork waits for a descheduled partner thread.
//
// Here each thread:
//   - keeps its own copy of the residual stream x and computes the (tiny) norms of
//     whole rows itself instead of waiting for one thread to do it,
//   - computes the q/k/v columns of its own heads, applies rotary, writes their KV
//     cache rows and runs attention for them: no barrier between the projection and
//     attention,
//   - for [out, in] projections (cpu::linear_parts_cols, the same GEMV kernels:
//     per-column results do not depend on the split) runs its slice of output columns;
//     for [in, out] (Conv1D) weights (cpu::linear_parts_krows: one contiguous stream per
//     thread) its block of input rows for every column, then adds up the threads'
//     partial sums after one barrier. Those blocks follow what the thread produced
//     itself (its heads' attention output into o_proj, its intermediate columns into
//     the down projection), so the inputs need no barrier either,
//   - adds up (or, split by columns, reads after a barrier) every column of o_proj and
//     of the MLP output, so its own residual stream and norms need no barrier.
// Split by columns, the threads' shares follow their measured speeds (cpu::TeamBalance):
// on a VM one core is often slower for minutes. The results do not depend on the shares.
// That leaves 4 barriers per layer (after each [in, out] projection; split by columns,
// before and after o_proj and the down projection) and no fork. Layer variants it does
// not cover (post-norm/sandwich residuals, MoE, qk-norm, the Gemma-2 ring cache) use
// run()'s loop.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <utility>

#include "backends/cpu/gemv.h"
#include "backends/cpu/kernels.h"
#include "parts/moe_ffn.h"
#include "templates/decoder_only/decoder_layer.h"

namespace ia {

bool DecoderModel::team_step_ok(int64_t T, bool use_slots) const {
  if (T != 1 || use_slots || cache_.batch() > cpu::kGemvMaxRows) return false;
  if (omp_in_parallel() || omp_get_max_threads() < 2) return false;
  if (p_.residual != ResidualKind::Sequential && p_.residual != ResidualKind::Parallel) return false;
  for (const auto& m : moe_)
    if (m) return false;
  for (const Layer& L : layers_)
    if (L.qk_norm || !L.n1 || (p_.residual == ResidualKind::Sequential && !L.n2)) return false;
  return true;
}

void DecoderModel::run_layers_team(const AttentionSpec& spec0, const AttentionArgs& a0) {
  const int64_t N = cache_.batch(), H = p_.hidden, D = p_.head_dim, I = p_.intermediate;
  const int64_t Hq = p_.n_heads, Hkv = p_.n_kv_heads, group = Hq / Hkv;
  const bool gated = p_.mlp == MlpKind::Gated, parallel_res = p_.residual == ResidualKind::Parallel;
  const bool from_normed = p_.residual_from_normed;
  const int max_threads = omp_get_max_threads();
  // Per thread, rows [N, H]: its residual stream x, n1(x), n2(x), and the whole
  // attention and MLP outputs; then the gated product act(gate) * up [N, I]; then per
  // thread two buffers of partial sums of [in, out] projections [N, widest output]:
  // consecutive projections alternate between them, so a thread may start the next one
  // while another still adds up the previous one (every projection ends in a barrier
  // that all threads pass only after the one before it is added up).
  const size_t priv = size_t(5 * N * H);
  const int64_t widest = std::max({qkv_dim_, H, gated ? 2 * I : I});
  const size_t partial_size = size_t(N * widest);
  const size_t need = size_t(max_threads) * (priv + 2 * partial_size) + size_t(N * I);
  if (team_buf_.size() < need) team_buf_.resize(need);
  float* team = team_buf_.data();
  float* prod = team + size_t(max_threads) * priv;
  float* partials = prod + size_t(N * I);
  float *x = x_.data(), *qkv = qkv_.data(), *att = att_.data(), *tmp = tmp_.data(), *mid = mid_.data();
  float* mlp_out = out_.data();
  // Shares that follow the threads' speeds only where every projection is split by
  // columns: moving the row blocks of [in, out] weights would change the rounding of
  // their partial sums from step to step.
  auto by_columns = [](const Linear& l) { return l.layout != cpu::WeightLayout::InOut; };
  bool by_cols = true;
  for (const Layer& L : layers_) {
    by_cols = by_cols && by_columns(L.o) && by_columns(L.down);
    for (const LinearGroup* g : {&L.qkv, &L.up})
      by_cols = by_cols && std::all_of(g->parts.begin(), g->parts.end(), by_columns);
  }
  if (balance_.threads() != max_threads) balance_.reset(max_threads);
  team_busy_.assign(size_t(max_threads), 0.0);
  int team_size = 0;
  using Clock = std::chrono::steady_clock;

#pragma omp parallel
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    if (t == 0) team_size = nt;
    const bool balanced = by_cols && nt == balance_.threads();
    const Clock::time_point start = Clock::now();
    double waited = 0;  // seconds at barriers
    auto barrier = [&] {
      const Clock::time_point w0 = Clock::now();
#pragma omp barrier
      waited += std::chrono::duration<double>(Clock::now() - w0).count();
    };
    float* xt = team + size_t(t) * priv;  // this thread's copy of the residual stream
    float* hn = xt + N * H;               // n1(x)
    float* hm = hn + N * H;               // n2(x)
    float* attn_rows = hm + N * H;        // o_proj output, every column
    float* mlp_rows = attn_rows + N * H;  // MLP output, every column
    std::copy(x, x + N * H, xt);
    int64_t qc0, qc1, hc0, hc1, ic0, ic1;
    cpu::split_cols(qkv_dim_, t, nt, &qc0, &qc1);
    if (balanced) {
      balance_.split(H, t, &hc0, &hc1);
      balance_.split(I, t, &ic0, &ic1);
    } else {
      cpu::split_cols(H, t, nt, &hc0, &hc1);
      cpu::split_cols(I, t, nt, &ic0, &ic1);
    }
    // Heads: whole KV groups per thread when there are enough of them (the thread computes
    // and reads only its own q/k/v columns); otherwise KV heads and query heads split
    // separately, with barriers between the projection, the cache write and attention.
    const bool by_group = Hkv >= nt;
    const int64_t kv0 = Hkv * t / nt, kv1 = Hkv * (t + 1) / nt;
    const int64_t q0 = by_group ? kv0 * group : Hq * t / nt, q1 = by_group ? kv1 * group : Hq * (t + 1) / nt;
    cpu::LinearPart parts[LinearGroup::kMaxParts];
    int flip = 0;  // which partial-sum buffer the next [in, out] projection uses
    auto in_out = [](const cpu::LinearPart* ps, int n) {
      bool all = true;
      for (int i = 0; i < n; ++i) all = all && ps[i].layout == cpu::WeightLayout::InOut;
      return all;
    };
    // y[:, cols of each range] = in . W for one projection group, split as its layout
    // streams best. [out, in]: this thread computes the ranges. [in, out]: it sums input
    // rows [k0, k1) for every column, then (after the barrier) adds up the ranges.
    auto project = [&](const float* in, int64_t K, const cpu::LinearPart* ps, int n, float* y, int64_t ldy,
                       int64_t k0, int64_t k1, std::initializer_list<std::pair<int64_t, int64_t>> ranges) {
      if (!in_out(ps, n)) {
        for (auto [c0, c1] : ranges) cpu::linear_parts_cols(in, N, K, ps, n, y, ldy, c0, c1);
        return;
      }
      int64_t total = 0;
      for (int i = 0; i < n; ++i) total += cpu::part_out(ps[i]);
      float* buf = partials + size_t(flip) * size_t(nt) * partial_size;
      flip ^= 1;
      cpu::linear_parts_krows(in, N, K, ps, n, buf + size_t(t) * partial_size, total, k0, k1, t == 0);
      barrier();
      for (auto [c0, c1] : ranges)
        for (int64_t m = 0; m < N; ++m)
          for (int64_t c = c0; c < c1; ++c) {
            float sum = buf[size_t(m * total + c)];
            for (int u = 1; u < nt; ++u) sum += buf[size_t(u) * partial_size + size_t(m * total + c)];
            y[m * ldy + c] = sum;
          }
    };
    // Every column of a projection to H whose input the thread produced itself (input
    // rows [k0, k1)): [in, out] sums its rows and adds up all partials into `rows`;
    // [out, in] needs every input column, so it waits for the other threads first,
    // computes its own columns into `shared` and reads the rest after another barrier.
    auto project_rows = [&](const float* in, int64_t K, const cpu::LinearPart& p, float* shared, int64_t k0,
                            int64_t k1, float* rows) -> const float* {
      if (in_out(&p, 1)) {
        project(in, K, &p, 1, rows, H, k0, k1, {{0, H}});
        return rows;
      }
      barrier();
      cpu::linear_parts_cols(in, N, K, &p, 1, shared, H, hc0, hc1);
      barrier();
      return shared;
    };

    for (int64_t l = 0; l < p_.n_layers; ++l) {
      const Layer& L = layers_[size_t(l)];
      // --- attention ---
      L.n1->forward(xt, N, hn);
      const int np = int(L.qkv.parts.size());
      for (int i = 0; i < np; ++i) parts[i] = L.qkv.parts[size_t(i)].part();
      const int64_t K_qkv = L.qkv.in, qkv_k0 = K_qkv * t / nt, qkv_k1 = K_qkv * (t + 1) / nt;
      if (by_group) {  // this thread's q, k and v columns
        project(hn, K_qkv, parts, np, qkv, qkv_dim_, qkv_k0, qkv_k1,
                {{q0 * D, q1 * D}, {(Hq + kv0) * D, (Hq + kv1) * D}, {(Hq + Hkv + kv0) * D, (Hq + Hkv + kv1) * D}});
      } else {
        project(hn, K_qkv, parts, np, qkv, qkv_dim_, qkv_k0, qkv_k1, {{qc0, qc1}});
        barrier();
      }
      if (p_.pos == PosKind::Rotary) {
        rope_.apply(qkv + q0 * D, N, qkv_dim_, q1 - q0, D);
        rope_.apply(qkv + (Hq + kv0) * D, N, qkv_dim_, kv1 - kv0, D);
      }
      cache_.write_step_cols(l, qkv + Hq * D, qkv_dim_, kv0 * D, kv1 * D, qkv + (Hq + Hkv) * D, qkv_dim_, kv0 * D,
                             kv1 * D);
      if (!by_group) barrier();
      AttentionSpec s = spec0;
      s.scale = p_.attn_scale * (p_.layer_scale.empty() ? 1.f : p_.layer_scale[size_t(l)]);
      s.sliding_window = p_.window[size_t(l)];
      if (generating_ && p_.decode_ignores_window) s.sliding_window = 0;
      AttentionArgs a = a0;
      a.q = qkv;
      a.k = cache_.keys(l);
      a.v = cache_.values(l);
      a.out = att;
      attention_decode_heads(s, a, q0, q1);
      // o_proj over this thread's heads (its rows of an [in, out] weight)
      const cpu::LinearPart op = L.o.part();
      const float* attn_out = project_rows(att, L.o.in, op, tmp, q0 * D, q1 * D, attn_rows);

      // --- MLP input ---
      const float* mlp_in = hn;
      if (!parallel_res) {
        const float* res = from_normed ? hn : xt;
        for (int64_t i = 0; i < N * H; ++i) xt[i] = res[i] + attn_out[i];
        L.n2->forward(xt, N, hm);
        mlp_in = hm;
      } else if (L.n2) {
        L.n2->forward(xt, N, hm);
        mlp_in = hm;
      }

      // --- MLP: this thread's intermediate columns, activation on them ---
      const int nu = int(L.up.parts.size());
      for (int i = 0; i < nu; ++i) parts[i] = L.up.parts[size_t(i)].part();
      const int64_t K_up = L.up.in, up_k0 = K_up * t / nt, up_k1 = K_up * (t + 1) / nt;
      const float* down_in = mid;
      if (gated) {  // [gate | up]: the same columns of both halves
        project(mlp_in, K_up, parts, nu, mid, 2 * I, up_k0, up_k1, {{ic0, ic1}, {I + ic0, I + ic1}});
        for (int64_t m = 0; m < N && ic1 > ic0; ++m) {
          float* g = mid + m * 2 * I + ic0;
          cpu::apply_act(p_.act, g, ic1 - ic0);
          cpu::mul_inplace(g, g + I, ic1 - ic0);
          std::copy(g, g + (ic1 - ic0), prod + m * I + ic0);
        }
        down_in = prod;
      } else {
        project(mlp_in, K_up, parts, nu, mid, I, up_k0, up_k1, {{ic0, ic1}});
        for (int64_t m = 0; m < N && ic1 > ic0; ++m) cpu::apply_act(p_.act, mid + m * I + ic0, ic1 - ic0);
      }
      // the down projection over this thread's intermediate columns
      const cpu::LinearPart dp = L.down.part();
      const float* mlp = project_rows(down_in, I, dp, mlp_out, ic0, ic1, mlp_rows);
      if (parallel_res) {  // torch order: (mlp + attn) + residual
        for (int64_t i = 0; i < N * H; ++i) xt[i] = (mlp[i] + attn_out[i]) + xt[i];
      } else {
        const float* res2 = from_normed ? hm : xt;
        for (int64_t i = 0; i < N * H; ++i) xt[i] = res2[i] + mlp[i];
      }
    }
    if (t == 0) std::copy(xt, xt + N * H, x);
    team_busy_[size_t(t)] = std::chrono::duration<double>(Clock::now() - start).count() - waited;
  }
  if (by_cols && team_size == balance_.threads()) balance_.update(team_busy_.data());
}

}  // namespace ia
