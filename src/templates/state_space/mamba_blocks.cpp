// Mamba and Mamba-2 blocks over one piece of T tokens per row, carrying the
// conv window and SSM state (transformers 4.44 MambaMixer.slow_forward and
// Mamba2Mixer.torch_forward, in recurrent form).
#include <cmath>
#include <cstring>

#include "parts/gated_rms_norm.h"
#include "parts/selective_scan.h"
#include "templates/state_space/ssm_layers.h"

namespace ia {

void StateSpaceModel::mamba_block(int64_t l, int64_t T) {
  const MambaLayer& L = mamba_[size_t(l)];
  const int64_t B = state_.batch(), M = B * T, H = p_.hidden, I = p_.intermediate, N = p_.state_size,
                R = p_.time_step_rank;
  float* x = x_.data();
  float* n = grow(n_, size_t(M * H));
  float* proj = grow(proj_, size_t(M * 2 * I));
  float* conv = grow(conv_, size_t(M * I));
  float* xdbc = grow(xdbc_, size_t(M * (R + 2 * N)));
  float* dt = grow(dt_, size_t(M * I));
  float* y = grow(y_, size_t(M * I));
  float* tmp = grow(tmp_, size_t(M * H));

  L.norm.forward(x, M, n);
  L.in_proj.forward(n, M, proj);  // [M, 2I]: hidden | gate
  for (int64_t b = 0; b < B; ++b) {
    float* cs = state_.data(l, kMambaConv) + b * L.conv.state_size();
    L.conv.forward(proj + b * T * 2 * I, 2 * I, T, cs, conv + b * T * I);
  }
  cpu::apply_act(p_.act, conv, M * I);
  L.x_proj.forward(conv, M, xdbc);  // [M, R + 2N]: dt | B | C
  // dt_proj reads the first R columns of each x_proj row.
  float* dt_in = grow(k_, size_t(M * R));
  for (int64_t m = 0; m < M; ++m) std::memcpy(dt_in + m * R, xdbc + m * (R + 2 * N), size_t(R) * 4);
  L.dt_proj.forward(dt_in, M, dt);
  for (int64_t i = 0; i < M * I; ++i) dt[i] = softplus(dt[i]);
  for (int64_t b = 0; b < B; ++b) {
    float* h = state_.data(l, kMambaSsm) + b * I * N;
    mamba_selective_scan(T, I, N, conv + b * T * I, I, dt + b * T * I, xdbc + b * T * (R + 2 * N), R + 2 * N, R, R + N,
                         L.A.f32(), L.D.f32(), h, y + b * T * I);
  }
  // y *= act(gate)
  for (int64_t m = 0; m < M; ++m) {
    const float* g = proj + m * 2 * I + I;
    float* ym = y + m * I;
    for (int64_t i = 0; i < I; ++i) ym[i] *= cpu::act_scalar(p_.act, g[i]);
  }
  L.out_proj.forward(y, M, tmp);
  cpu::add_inplace(x, tmp, M * H);
}

void StateSpaceModel::mamba2_block(int64_t l, int64_t T, const int64_t* mask) {
  const Mamba2Layer& L = mamba2_[size_t(l)];
  const int64_t B = state_.batch(), M = B * T, H = p_.hidden, I = p_.intermediate, N = p_.state_size,
                NH = p_.n_heads, P = p_.head_dim, G = p_.n_groups;
  const int64_t conv_dim = I + 2 * G * N;
  const int64_t proj_dim = 2 * d_mlp_ + I + conv_dim + NH;
  const int64_t gate_off = 2 * d_mlp_, xbc_off = gate_off + I, dt_off = xbc_off + conv_dim;
  float* x = x_.data();
  float* n = grow(n_, size_t(M * H));
  float* proj = grow(proj_, size_t(M * proj_dim));
  float* conv = grow(conv_, size_t(M * conv_dim));
  float* dt = grow(dt_, size_t(M * NH));
  float* y = grow(y_, size_t(M * I));
  float* tmp = grow(tmp_, size_t(M * H));

  L.norm.forward(x, M, n);
  L.in_proj.forward(n, M, proj);
  for (int64_t b = 0; b < B; ++b) {
    float* cs = state_.data(l, kMambaConv) + b * L.conv.state_size();
    L.conv.forward(proj + b * T * proj_dim + xbc_off, proj_dim, T, cs, conv + b * T * conv_dim);
  }
  cpu::apply_act(p_.act, conv, M * conv_dim);
  // 4.44 zeroes the conv output of padding tokens in batched prefill (mamba issue #66);
  // single-row and single-token calls skip it there, and unpadded rows are unaffected.
  if (mask && B > 1)
    for (int64_t m = 0; m < M; ++m)
      if (mask[m] == 0) std::fill(conv + m * conv_dim, conv + (m + 1) * conv_dim, 0.f);
  const float* dt_bias = L.dt_bias.f32();
  const float dt_min = float(p_.time_step_min);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t h = 0; h < NH; ++h) {
      float d = softplus(proj[m * proj_dim + dt_off + h] + dt_bias[h]);
      dt[m * NH + h] = d < dt_min ? dt_min : d;
    }
  for (int64_t b = 0; b < B; ++b) {
    float* hs = state_.data(l, kMambaSsm) + b * NH * P * N;
    mamba2_ssd_scan(T, NH, P, N, G, conv + b * T * conv_dim, conv_dim, I, I + G * N, dt + b * T * NH, L.A.f32(),
                    L.D.f32(), hs, y + b * T * I);
  }
  gated_rms_norm(y, proj + gate_off, proj_dim, M, I, I, L.gnorm_w.f32(), float(p_.eps), y);
  L.out_proj.forward(y, M, tmp);
  cpu::add_inplace(x, tmp, M * H);
}

}  // namespace ia
