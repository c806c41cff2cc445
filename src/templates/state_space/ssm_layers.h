// Per-layer weights of the three state-space block types (internal to the template).
#pragma once
#include "parts/causal_conv1d.h"
#include "parts/nn.h"
#include "templates/state_space/state_space_model.h"

namespace ia {

// MambaBlock: RMSNorm -> MambaMixer (in_proj, causal conv, x_proj, dt_proj, selective scan, gate, out_proj).
struct StateSpaceModel::MambaLayer {
  RMSNorm norm;
  Linear in_proj, x_proj, dt_proj, out_proj;
  CausalConv1d conv;
  Tensor A;  // [I, N] = -exp(A_log)
  Tensor D;  // [I]
};

// Mamba2Block: RMSNorm -> Mamba2Mixer (in_proj, conv over xBC, SSD, gated RMSNorm, out_proj).
struct StateSpaceModel::Mamba2Layer {
  RMSNorm norm;
  Linear in_proj, out_proj;
  CausalConv1d conv;
  Tensor A;        // [H] = -exp(A_log)
  Tensor D;        // [H]
  Tensor dt_bias;  // [H]
  Tensor gnorm_w;  // [I]
};

// RwkvBlock: (pre_ln on layer 0) -> ln1 -> time mixing -> ln2 -> channel mixing.
struct StateSpaceModel::RwkvLayer {
  LayerNorm pre_ln, ln1, ln2;  // pre_ln only on layer 0
  // time mixing (attention)
  Tensor decay;  // [A] = -exp(time_decay)
  Tensor first;  // [A]
  Tensor att_mix_k, att_mix_v, att_mix_r;  // [hidden]
  Linear att_key, att_value, att_receptance, att_output;  // output pre-divided by 2^(layer / rescale_every)
  // channel mixing (feed forward)
  Tensor ffn_mix_k, ffn_mix_r;  // [hidden]
  Linear ffn_key, ffn_receptance, ffn_value;  // value pre-divided by 2^(layer / rescale_every)
};

// RecurrentState slot indices per kind.
enum MambaSlot { kMambaConv = 0, kMambaSsm = 1 };
enum RwkvSlot { kRwkvFfnShift = 0, kRwkvAttShift = 1, kRwkvNum = 2, kRwkvDen = 3, kRwkvMax = 4 };

// Grows `v` to at least n floats (never shrinks, so steady-state decoding does not allocate).
inline float* grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace ia
