// T5 relative-position buckets against values worked out by hand from
// T5Attention._relative_position_bucket (modeling_t5.py):
//   bidirectional: n = num_buckets / 2, +n when the key is after the query, then |d|;
//   unidirectional: d = max(-d, 0) with n = num_buckets;
//   max_exact = n / 2; small distances map to themselves, larger ones to
//   max_exact + int(log(d / max_exact) / log(max_distance / max_exact) * (n - max_exact)),
//   capped at n - 1.
#include <gtest/gtest.h>

#include "parts/t5_relative_bias.h"

using namespace ia;

TEST(T5RelativeBuckets, Bidirectional32x128) {
  // n = 16, max_exact = 8, log(128 / 8) = log 16.
  EXPECT_EQ(t5_relative_position_bucket(0, true, 32, 128), 0);
  EXPECT_EQ(t5_relative_position_bucket(1, true, 32, 128), 17);   // 16 + 1
  EXPECT_EQ(t5_relative_position_bucket(-1, true, 32, 128), 1);
  EXPECT_EQ(t5_relative_position_bucket(7, true, 32, 128), 23);   // 16 + 7
  EXPECT_EQ(t5_relative_position_bucket(-8, true, 32, 128), 8);   // 8 + int(log 1 ...) = 8
  EXPECT_EQ(t5_relative_position_bucket(8, true, 32, 128), 24);
  EXPECT_EQ(t5_relative_position_bucket(-20, true, 32, 128), 10); // log 2.5 / log 16 * 8 = 2.64 -> 2
  EXPECT_EQ(t5_relative_position_bucket(-127, true, 32, 128), 15);  // 7.98 -> 7
  EXPECT_EQ(t5_relative_position_bucket(-128, true, 32, 128), 15);  // 16 capped at 15
  EXPECT_EQ(t5_relative_position_bucket(1000, true, 32, 128), 31);  // 16 + 15
}

TEST(T5RelativeBuckets, Unidirectional32x128) {
  // n = 32, max_exact = 16, log(128 / 16) = log 8; keys after the query -> 0.
  EXPECT_EQ(t5_relative_position_bucket(5, false, 32, 128), 0);
  EXPECT_EQ(t5_relative_position_bucket(0, false, 32, 128), 0);
  EXPECT_EQ(t5_relative_position_bucket(-5, false, 32, 128), 5);
  EXPECT_EQ(t5_relative_position_bucket(-16, false, 32, 128), 16);
  EXPECT_EQ(t5_relative_position_bucket(-40, false, 32, 128), 23);  // log 2.5 / log 8 * 16 = 7.05 -> 7
  EXPECT_EQ(t5_relative_position_bucket(-200, false, 32, 128), 31);
}

TEST(T5RelativeBuckets, FixtureGeometry8x16) {
  // The fixtures' 8 buckets, max distance 16: bidirectional n = 4, max_exact = 2, log 8.
  EXPECT_EQ(t5_relative_position_bucket(3, true, 8, 16), 4 + 2);   // log 1.5 / log 8 * 2 = 0.39 -> 0
  EXPECT_EQ(t5_relative_position_bucket(-5, true, 8, 16), 2);      // 0.88 -> 0
  EXPECT_EQ(t5_relative_position_bucket(-8, true, 8, 16), 3);      // log 4 / log 8 * 2 = 1.33 -> 1
  EXPECT_EQ(t5_relative_position_bucket(-16, true, 8, 16), 3);     // 2 + 2 capped at 3
  EXPECT_EQ(t5_relative_position_bucket(-1, false, 8, 16), 1);
  EXPECT_EQ(t5_relative_position_bucket(-6, false, 8, 16), 5);     // n=8, max_exact=4: log 1.5 / log 4 * 4 = 1.17 -> 1
}

TEST(T5RelativeBuckets, BiasTableLayout) {
  // table[bucket, head]: bias[h, i, j] = table[bucket(j - (q0 + i)), h].
  const int64_t buckets = 8, heads = 2;
  std::vector<float> t(size_t(buckets * heads));
  for (int64_t b = 0; b < buckets; ++b)
    for (int64_t h = 0; h < heads; ++h) t[size_t(b * heads + h)] = float(100 * h + b);
  T5RelativeBias rb(Tensor::from_vector(t, {buckets, heads}), /*bidirectional=*/false, 16);
  std::vector<float> out(size_t(heads * 1 * 4));
  rb.compute(/*q0=*/3, /*Tq=*/1, /*Tk=*/4, out.data());
  // Query at 3, keys 0..3: distances -3, -2, -1, 0 -> buckets 3, 2, 1, 0.
  EXPECT_EQ(out[0], 3.f);
  EXPECT_EQ(out[3], 0.f);
  EXPECT_EQ(out[4 + 0], 103.f);
  EXPECT_EQ(out[4 + 2], 101.f);
}
