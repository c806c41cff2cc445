#include "parts/relative_position.h"

#include <cmath>
#include <cstdlib>

namespace ia {

int64_t deberta_log_bucket(int64_t rel, int64_t bucket_size, int64_t max_position) {
  const int64_t mid = bucket_size / 2;
  const int64_t sign = rel > 0 ? 1 : (rel < 0 ? -1 : 0);
  const int64_t abs_pos = (rel < mid && rel > -mid) ? mid - 1 : std::llabs(rel);
  if (abs_pos <= mid) return rel;
  // torch: ceil(log(abs/mid) / log(tensor((max_position-1)/mid)) * (mid-1)) + mid, all float32.
  const float num = std::log(float(abs_pos) / float(mid));
  const float den = std::log(float(double(max_position - 1) / double(mid)));
  const float log_pos = std::ceil(num / den * float(mid - 1)) + float(mid);
  return int64_t(log_pos) * sign;
}

std::vector<int64_t> deberta_relative_positions(int64_t q_len, int64_t k_len, int64_t bucket_size,
                                                int64_t max_position) {
  std::vector<int64_t> r(size_t(q_len * k_len));
  const bool bucketed = bucket_size > 0 && max_position > 0;
  for (int64_t i = 0; i < q_len; ++i)
    for (int64_t j = 0; j < k_len; ++j) {
      int64_t d = i - j;
      r[size_t(i * k_len + j)] = bucketed ? deberta_log_bucket(d, bucket_size, max_position) : d;
    }
  return r;
}

}  // namespace ia
