#include <gtest/gtest.h>

#include "core/error.h"
#include "core/tensor.h"

using namespace ia;

TEST(Tensor, ReshapeInfersOneDimensionAndSharesStorage) {
  Tensor t = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor r = t.reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(r.raw(), t.raw());
  EXPECT_THROW(t.reshape({4, -1}), Error);
  EXPECT_THROW(t.reshape({-1, -1}), Error);
}

TEST(Tensor, TypedAccessChecksDtype) {
  Tensor t = Tensor::from_vector_i64({1, 2}, {2});
  EXPECT_THROW(t.f32(), Error);
  EXPECT_EQ(t.to_f32().f32()[1], 2.f);
}

TEST(Tensor, ConversionsFromHalfTypes) {
  Tensor h = Tensor::empty(DType::BF16, {3});
  auto* p = static_cast<uint16_t*>(h.raw());
  p[0] = f32_to_bf16(1.5f);
  p[1] = f32_to_bf16(-2.25f);
  p[2] = f32_to_bf16(0.f);
  Tensor f = h.to_f32();
  EXPECT_EQ(f.f32()[0], 1.5f);
  EXPECT_EQ(f.f32()[1], -2.25f);
  EXPECT_EQ(f.f32()[2], 0.f);
  EXPECT_EQ(f16_to_f32(f32_to_f16(0.333251953125f)), 0.333251953125f);
}
