// RWKV-4 time mixing's weighted key-value recurrence ("wkv") with the
// numerically stable running-max form of transformers' rwkv_linear_attention_cpu.
// Per channel the state is (num, den, max); a fresh state is (0, 0, -1e30).
#pragma once
#include <cstdint>

namespace ia {

// One batch row of T tokens. decay = -exp(time_decay) [A]; first = time_first [A];
// k, v: [T, A]; num/den/max: [A] carried; out: [T, A].
void rwkv_wkv(int64_t T, int64_t A, const float* decay, const float* first, const float* k, const float* v, float* num,
              float* den, float* max, float* out);

}  // namespace ia
