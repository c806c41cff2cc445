// Mamba-2's gated RMSNorm (MambaRMSNormGated in transformers 4.44):
//   y = w * rmsnorm(x * silu(gate))
// normalised over groups of `group` features (4.44 uses the whole width).
#pragma once
#include <cstdint>

namespace ia {

// x, gate: [rows, n] (gate rows `ld_gate` floats apart); w: [n]; y: [rows, n] (may alias x).
void gated_rms_norm(const float* x, const float* gate, int64_t ld_gate, int64_t rows, int64_t n, int64_t group,
                    const float* w, float eps, float* y);

}  // namespace ia
