// Relative-position index helpers for encoder attention biases.
#pragma once
#include <cstdint>
#include <vector>

namespace ia {

// DeBERTa-v2's make_log_bucket_position for one relative distance: distances
// inside (-bucket/2, bucket/2) stay exact, larger ones are log-compressed up to
// max_position. Computed in float32 exactly as transformers does (ceil is
// sensitive to rounding).
int64_t deberta_log_bucket(int64_t rel, int64_t bucket_size, int64_t max_position);

// build_relative_position(q_len, k_len, bucket_size, max_position): row-major
// [q_len, k_len] of (i - j), log-bucketed when bucket_size > 0 and max_position > 0.
std::vector<int64_t> deberta_relative_positions(int64_t q_len, int64_t k_len, int64_t bucket_size,
                                                int64_t max_position);

}  // namespace ia
