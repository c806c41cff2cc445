// ALiBi (attention with linear biases) head slopes as BLOOM / Falcon / MPT build
// them, for any head count: the closest power of two gets the geometric series,
// the remaining heads take every other slope of the next power of two.
#pragma once
#include <cstdint>
#include <vector>

namespace ia {

// Slopes in float32 exactly as transformers' build_alibi_tensor computes them.
std::vector<float> alibi_slopes(int64_t n_heads);

// Key positions ALiBi multiplies by the slope: (cumsum(mask) - 1) * mask for one
// row of an attention mask [n] (padding keys get 0; they are masked anyway).
void alibi_positions_from_mask(const int64_t* mask, int64_t n, float* out);

}  // namespace ia
