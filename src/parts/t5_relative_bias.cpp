#include "parts/t5_relative_bias.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace ia {

int64_t t5_relative_position_bucket(int64_t relative_position, bool bidirectional, int64_t num_buckets,
                                    int64_t max_distance) {
  int64_t bucket = 0;
  int64_t n = num_buckets;
  int64_t rp = relative_position;
  if (bidirectional) {
    n /= 2;
    if (rp > 0) bucket += n;
    rp = std::llabs(rp);
  } else {
    rp = rp < 0 ? -rp : 0;
  }
  const int64_t max_exact = n / 2;
  if (rp < max_exact) return bucket + rp;
  // torch: max_exact + (log(rp.float() / max_exact) / math.log(max_distance / max_exact) * (n - max_exact)).long()
  // The python scalars are doubles; the tensor ops run in float32.
  const float ratio = float(rp) / float(max_exact);
  const float denom = float(std::log(double(max_distance) / double(max_exact)));
  const float scaled = std::log(ratio) / denom * float(n - max_exact);
  int64_t large = max_exact + int64_t(scaled);  // .to(torch.long) truncates toward zero
  large = std::min(large, n - 1);
  return bucket + large;
}

T5RelativeBias::T5RelativeBias(Tensor table, bool bidirectional, int64_t max_distance)
    : table_(std::move(table)), bidirectional_(bidirectional), max_distance_(max_distance) {
  IA_CHECK(table_.rank() == 2, "relative_attention_bias must be [num_buckets, n_heads], got ", shape_str(table_.shape()));
  num_buckets_ = table_.dim(0);
  n_heads_ = table_.dim(1);
}

void T5RelativeBias::compute(int64_t q0, int64_t Tq, int64_t Tk, float* out) const {
  const float* t = table_.f32();
  // A bucket depends only on j - i: look each distance up once.
  const int64_t lo = -(q0 + Tq - 1), hi = Tk - 1 - q0;  // range of key - query
  std::vector<int64_t>& bucket_of = scratch_;
  bucket_of.resize(size_t(hi - lo + 1));  // grows once; decode steps reuse it
  for (int64_t d = lo; d <= hi; ++d)
    bucket_of[size_t(d - lo)] = t5_relative_position_bucket(d, bidirectional_, num_buckets_, max_distance_);
  for (int64_t h = 0; h < n_heads_; ++h)
    for (int64_t i = 0; i < Tq; ++i) {
      float* row = out + (h * Tq + i) * Tk;
      for (int64_t j = 0; j < Tk; ++j) row[j] = t[bucket_of[size_t(j - (q0 + i) - lo)] * n_heads_ + h];
    }
}

}  // namespace ia
