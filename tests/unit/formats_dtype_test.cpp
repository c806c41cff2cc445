// F16 / BF16 <-> F32 conversions checked exhaustively against IEEE arithmetic
// done in double, plus dtype names, sizes and convert_to_f32 for every dtype.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/dtype.h"
#include "core/error.h"
#include "core/tensor.h"

namespace ia {
namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The value an IEEE half encodes, computed independently of the code under test.
double half_value(uint16_t h) {
  int sign = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v;
  if (e == 0) v = std::ldexp(double(m), -24);
  else if (e == 31) v = m ? std::numeric_limits<double>::quiet_NaN() : INFINITY;
  else v = std::ldexp(1.0 + m / 1024.0, e - 15);
  return sign ? -v : v;
}

TEST(FormatsDtype, F16ToF32AllValues) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    double want = half_value(uint16_t(h));
    float got = f16_to_f32(uint16_t(h));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << std::hex << h;
      continue;
    }
    ASSERT_EQ(double(got), want) << std::hex << h;
    ASSERT_EQ(std::signbit(got), bool(h & 0x8000)) << std::hex << h;
  }
}

TEST(FormatsDtype, F16RoundTripAllValues) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    uint16_t back = f32_to_f16(f16_to_f32(uint16_t(h)));
    if (std::isnan(half_value(uint16_t(h)))) {
      EXPECT_TRUE(std::isnan(half_value(back))) << std::hex << h;
      EXPECT_EQ(back & 0x8000, h & 0x8000);
    } else {
      ASSERT_EQ(back, h) << std::hex << h;
    }
  }
}

// Round-to-nearest-even by brute force: the closest half, ties to the even mantissa.
uint16_t nearest_half(float x) {
  if (std::isnan(x)) return 0x7e00;
  uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  double a = std::fabs(double(x));
  if (a >= 65520.0) return sign | 0x7c00;  // halfway to 2^16 and beyond overflow
  // Positive halves are ordered like their bit patterns: find the last one <= a.
  uint32_t lo = 0, hi = 0x7bff;
  while (lo < hi) {
    uint32_t mid = (lo + hi + 1) / 2;
    if (half_value(uint16_t(mid)) <= a) lo = mid;
    else hi = mid - 1;
  }
  uint16_t best = uint16_t(lo);
  if (lo < 0x7bff || a > 65504.0) {
    double up = lo < 0x7bff ? half_value(uint16_t(lo + 1)) : 65536.0;
    double e_lo = a - half_value(uint16_t(lo)), e_hi = up - a;
    if (e_hi < e_lo || (e_hi == e_lo && (lo & 1))) best = uint16_t(lo + 1);
  }
  return sign | best;
}

TEST(FormatsDtype, F32ToF16RoundsToNearestEven) {
  std::vector<float> xs = {0.f, -0.f, 1.f, -1.f, 65504.f, 65519.f, 65519.99f, 65520.f, 1e6f, -1e6f,
                           std::ldexp(1.f, -14),                       // smallest normal
                           std::ldexp(1.f, -24),                       // smallest subnormal
                           std::ldexp(1.f, -25),                       // tie: rounds to 0 (even)
                           std::ldexp(1.5f, -25),                      // above the tie: smallest subnormal
                           std::ldexp(1.5f, -24),                      // tie between 1 and 2 units: 2
                           std::ldexp(2.5f, -24),                      // tie between 2 and 3 units: 2
                           std::ldexp(1023.5f, -24),                   // tie at the subnormal/normal border
                           std::ldexp(1.f, -26), 1e-30f, FLT_MIN, FLT_MAX, -FLT_MAX,
                           1.f + std::ldexp(1.f, -11),                 // tie: stays 1.0
                           1.f + std::ldexp(3.f, -11),                 // tie: rounds up to even
                           1.f + std::ldexp(1.f, -11) + std::ldexp(1.f, -20)};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> mant(1.f, 2.f);
  std::uniform_int_distribution<int> ex(-27, 17);
  for (int i = 0; i < 3000; ++i) xs.push_back((i % 2 ? -1.f : 1.f) * std::ldexp(mant(rng), ex(rng)));
  for (float x : xs) EXPECT_EQ(f32_to_f16(x), nearest_half(x)) << x << " bits " << std::hex << bits(x);
  EXPECT_EQ(f32_to_f16(INFINITY), 0x7c00);
  EXPECT_EQ(f32_to_f16(-INFINITY), 0xfc00);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(NAN))));
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(from_bits(0x7f800001)))));  // signalling NaN stays NaN
}

TEST(FormatsDtype, Bf16RoundTripAllValues) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = bf16_to_f32(uint16_t(h));
    ASSERT_EQ(bits(f), h << 16);
    uint16_t back = f32_to_bf16(f);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(bf16_to_f32(back))) << std::hex << h;
    } else {
      ASSERT_EQ(back, h) << std::hex << h;
    }
  }
}

TEST(FormatsDtype, F32ToBf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.f + std::ldexp(1.f, -8)), 0x3f80);   // tie: stays even
  EXPECT_EQ(f32_to_bf16(1.f + std::ldexp(3.f, -8)), 0x3f82);   // tie: rounds up to even
  EXPECT_EQ(f32_to_bf16(1.f + std::ldexp(1.f, -8) + std::ldexp(1.f, -20)), 0x3f81);
  EXPECT_EQ(f32_to_bf16(FLT_MAX), 0x7f80);                     // overflows to +inf
  EXPECT_EQ(f32_to_bf16(-FLT_MAX), 0xff80);
  EXPECT_EQ(f32_to_bf16(INFINITY), 0x7f80);
  EXPECT_EQ(f32_to_bf16(from_bits(0x00010000)), 0x0001);       // subnormal kept
  EXPECT_EQ(f32_to_bf16(from_bits(0x00008000)), 0x0000);       // subnormal tie to even (0)
  EXPECT_EQ(f32_to_bf16(from_bits(0x00018000)), 0x0002);       // subnormal tie to even (2)
  EXPECT_EQ(f32_to_bf16(-0.f), 0x8000);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(from_bits(0x7f800001)))));  // NaN never becomes inf
  std::mt19937 rng(11);
  for (int i = 0; i < 5000; ++i) {
    uint32_t u = rng();
    float f = from_bits(u);
    if (std::isnan(f) || std::isinf(f)) continue;
    uint16_t b = f32_to_bf16(f);
    double lo = bf16_to_f32(uint16_t(u >> 16)), hi = bf16_to_f32(uint16_t((u >> 16) + 1));
    double err_lo = std::fabs(double(f) - lo), err_hi = std::fabs(double(f) - hi);
    uint16_t want = err_lo < err_hi ? uint16_t(u >> 16) : err_hi < err_lo ? uint16_t((u >> 16) + 1)
                                                        : ((u >> 16) & 1 ? uint16_t((u >> 16) + 1) : uint16_t(u >> 16));
    ASSERT_EQ(b, want) << std::hex << u;
  }
}

TEST(FormatsDtype, NamesAndSizes) {
  const DType all[] = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64,
                       DType::I32, DType::I16, DType::I8,   DType::U8,  DType::BOOL};
  const size_t sizes[] = {4, 2, 2, 8, 8, 4, 2, 1, 1, 1};
  for (size_t i = 0; i < std::size(all); ++i) {
    DType back;
    ASSERT_TRUE(dtype_from_name(dtype_name(all[i]), &back));
    EXPECT_EQ(back, all[i]);
    EXPECT_EQ(dtype_size(all[i]), sizes[i]);
  }
  DType out;
  EXPECT_FALSE(dtype_from_name("F8_E5M2", &out));
  EXPECT_FALSE(dtype_from_name("", &out));
  EXPECT_TRUE(dtype_is_float(DType::BF16));
  EXPECT_FALSE(dtype_is_float(DType::BOOL));
}

TEST(FormatsDtype, ConvertEveryDtypeToF32) {
  float out[3];
  const int8_t i8[] = {-128, 0, 127};
  convert_to_f32(DType::I8, i8, out, 3);
  EXPECT_EQ(out[0], -128.f);
  EXPECT_EQ(out[2], 127.f);
  const uint8_t u8[] = {0, 200, 255};
  convert_to_f32(DType::U8, u8, out, 3);
  EXPECT_EQ(out[1], 200.f);
  convert_to_f32(DType::BOOL, u8, out, 3);
  EXPECT_EQ(out[2], 255.f);
  const int16_t i16[] = {-32768, 5, 32767};
  convert_to_f32(DType::I16, i16, out, 3);
  EXPECT_EQ(out[0], -32768.f);
  const int32_t i32[] = {-7, 1 << 24, 3};
  convert_to_f32(DType::I32, i32, out, 3);
  EXPECT_EQ(out[1], 16777216.f);
  const int64_t i64[] = {-1, 1ll << 40, 0};
  convert_to_f32(DType::I64, i64, out, 3);
  EXPECT_EQ(out[1], 1099511627776.f);
  const double f64[] = {0.1, -2.5, 1e300};
  convert_to_f32(DType::F64, f64, out, 3);
  EXPECT_EQ(out[0], 0.1f);
  EXPECT_TRUE(std::isinf(out[2]));
  const uint16_t f16[] = {0x3c00, 0xc000, 0x0001};
  convert_to_f32(DType::F16, f16, out, 3);
  EXPECT_EQ(out[1], -2.f);
  EXPECT_EQ(out[2], std::ldexp(1.f, -24));
  const uint16_t bf16[] = {0x3f80, 0x4049, 0x8000};
  convert_to_f32(DType::BF16, bf16, out, 3);
  EXPECT_EQ(out[0], 1.f);
  EXPECT_EQ(out[1], 3.140625f);
  EXPECT_TRUE(std::signbit(out[2]));
  // Unaligned sources are fine (memcpy-based reads).
  alignas(8) unsigned char buf[1 + 2 * 8];
  int64_t vals[2] = {42, -42};
  std::memcpy(buf + 1, vals, sizeof vals);
  convert_to_f32(DType::I64, buf + 1, out, 2);
  EXPECT_EQ(out[1], -42.f);
}

// Fuzz regression: converting an empty F32 tensor to I64 passed a null buffer to memcpy.
TEST(FormatsDtype, EmptyConversionsTouchNoMemory) {
  convert_to_f32(DType::F32, nullptr, nullptr, 0);
  convert_to_f32(DType::BF16, nullptr, nullptr, 0);
  EXPECT_EQ(Tensor::empty(DType::F32, {0, 3}).to_i64().numel(), 0);
  EXPECT_EQ(Tensor::empty(DType::F16, {0}).to_i64().numel(), 0);
  EXPECT_EQ(Tensor::empty(DType::I8, {2, 0}).to_f32().numel(), 0);
  EXPECT_EQ(Tensor::empty(DType::I64, {0}).to_i64().numel(), 0);
  EXPECT_THROW(Tensor().to_f32(), Error);  // undefined tensors are an error, not a null read
  EXPECT_THROW(Tensor().to_i64(), Error);
  EXPECT_THROW(Tensor().clone(), Error);
}

TEST(FormatsDtype, TensorConversions) {
  Tensor f = Tensor::from_vector({1.9f, -2.9f, 1e30f, NAN}, {4});
  Tensor i = f.to_i64();
  EXPECT_EQ(i.i64()[0], 1);
  EXPECT_EQ(i.i64()[1], -2);
  EXPECT_EQ(i.i64()[2], INT64_MAX);  // saturates instead of an undefined conversion
  EXPECT_EQ(i.i64()[3], 0);          // NaN has no integer value
  Tensor ids = Tensor::from_vector_i64({5, -6}, {2});
  EXPECT_EQ(ids.to_f32().f32()[1], -6.f);
  EXPECT_THROW(Tensor::from_vector({1, 2, 3}, {2, 2}), Error);
  EXPECT_THROW(Tensor::empty(DType::F32, {-1}), Error);
  EXPECT_THROW(f.reshape({3}), Error);
  EXPECT_EQ(f.reshape({2, -1}).dim(1), 2);
  EXPECT_THROW(f.i64(), Error);
  EXPECT_THROW(ids.f32(), Error);
}

}  // namespace
}  // namespace ia
