// Shared vision parts: the GEMM patch embedding against a direct convolution,
// input validation with clear errors, and the pre-norm encoder's hidden states.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "parts/conv.h"
#include "parts/vision_embeddings.h"
#include "parts/vision_encoder.h"

using namespace ia;

namespace {

const std::string kVit = std::string(IA_FIXTURES_DIR) + "/models/vit/ViTModel";

Tensor pixels(int64_t B, int64_t C, int64_t H, int64_t W) {
  Tensor t = Tensor::f32({B, C, H, W});
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = std::cos(0.113f * float(i)) * 1.5f;
  return t;
}

PatchEmbeddings vit_embeddings(std::shared_ptr<const Checkpoint> ck) {
  Weights root(ck);
  Weights emb = root.pp("embeddings");
  PatchEmbeddingSpec s;
  s.who = "test";
  s.hidden = 32;
  s.image_h = s.image_w = 32;
  s.patch_h = s.patch_w = 8;
  return PatchEmbeddings::load(s, emb.pp("patch_embeddings").pp("projection"), &emb, "cls_token", &emb,
                               "position_embeddings");
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(VisionParts, PatchProjectionMatchesDirectConvolution) {
  auto ck = Checkpoint::open_dir(kVit);
  PatchEmbeddings e = vit_embeddings(ck);
  Conv2dSpec cs;
  cs.in_channels = 3;
  cs.out_channels = 32;
  cs.kernel_h = cs.kernel_w = cs.stride_h = cs.stride_w = 8;
  Conv2d conv = Conv2d::load(Weights(ck).pp("embeddings").pp("patch_embeddings").pp("projection"), cs);
  Tensor px = pixels(2, 3, 32, 32);
  Tensor ref = conv2d_reference(px, conv);  // [2, 32, 4, 4]
  Tensor got = e.project(px);               // [2, 16, 32]
  ASSERT_EQ(got.shape(), (Shape{2, 16, 32}));
  float worst = 0;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t p = 0; p < 16; ++p)
      for (int64_t c = 0; c < 32; ++c)
        worst = std::max(worst, std::fabs(got.f32()[(b * 16 + p) * 32 + c] - ref.f32()[(b * 32 + c) * 16 + p]));
  EXPECT_LT(worst, 1e-4f);
  // forward() = [CLS; patches] + positions.
  Tensor full = e.forward(px);
  ASSERT_EQ(full.shape(), (Shape{2, 17, 32}));
  Tensor cls = Weights(ck).get("embeddings.cls_token");
  Tensor pos = Weights(ck).get("embeddings.position_embeddings");
  EXPECT_FLOAT_EQ(full.f32()[17 * 32 + 5], cls.f32()[5] + pos.f32()[5]);
  EXPECT_FLOAT_EQ(full.f32()[3 * 32 + 7], got.f32()[2 * 32 + 7] + pos.f32()[3 * 32 + 7]);
}

TEST(VisionParts, WrongPixelShapesGiveClearErrors) {
  auto ck = Checkpoint::open_dir(kVit);
  PatchEmbeddings e = vit_embeddings(ck);
  std::string m = error_of([&] { e.forward(pixels(1, 3, 32, 24)); });
  EXPECT_NE(m.find("doesn't match model (32*32)"), std::string::npos) << m;
  m = error_of([&] { e.forward(pixels(1, 4, 32, 32)); });
  EXPECT_NE(m.find("channel dimension"), std::string::npos) << m;
  m = error_of([&] { e.forward(Tensor::f32({3, 32, 32})); });
  EXPECT_NE(m.find("[batch, channels, height, width]"), std::string::npos) << m;
}

TEST(VisionParts, PositionTableMustFitTheGrid) {
  auto ck = Checkpoint::open_dir(kVit);
  Weights emb = Weights(ck).pp("embeddings");
  PatchEmbeddingSpec s;
  s.who = "test";
  s.hidden = 32;
  s.image_h = s.image_w = 40;  // 5x5 patches + CLS = 26 positions, the table has 17
  s.patch_h = s.patch_w = 8;
  std::string m = error_of([&] {
    PatchEmbeddings::load(s, emb.pp("patch_embeddings").pp("projection"), &emb, "cls_token", &emb,
                          "position_embeddings");
  });
  EXPECT_NE(m.find("position embedding"), std::string::npos) << m;
  EXPECT_NE(m.find("expected [26, 32]"), std::string::npos) << m;
}

TEST(VisionParts, EncoderRecordsEveryHiddenStateAndStopsEarly) {
  auto ck = Checkpoint::open_dir(kVit);
  VisionEncoderSpec s;
  s.who = "test";
  s.hidden = 32;
  s.heads = 4;
  s.intermediate = 64;
  s.layers = 2;
  s.eps = 1e-12f;
  VisionEncoderNames n;
  n.ln1 = "layernorm_before";
  n.ln2 = "layernorm_after";
  n.q = "attention.attention.query";
  n.k = "attention.attention.key";
  n.v = "attention.attention.value";
  n.o = "attention.output.dense";
  n.fc1 = "intermediate.dense";
  n.fc2 = "output.dense";
  VisionEncoder enc = VisionEncoder::load(s, Weights(ck).pp("encoder").pp("layer"), n);
  Tensor x0 = vit_embeddings(ck).forward(pixels(1, 3, 32, 32));
  Tensor all = x0.clone();
  std::vector<Tensor> hs;
  enc.forward(all, nullptr, false, &hs);
  ASSERT_EQ(hs.size(), 3u);
  Tensor one = x0.clone();
  enc.forward(one, nullptr, false, nullptr, 1);
  for (int64_t i = 0; i < one.numel(); ++i) ASSERT_EQ(one.f32()[i], hs[1].f32()[i]);
  for (int64_t i = 0; i < all.numel(); ++i) ASSERT_EQ(all.f32()[i], hs[2].f32()[i]);
  bool changed = false;
  for (int64_t i = 0; i < all.numel(); ++i) changed = changed || all.f32()[i] != x0.f32()[i];
  EXPECT_TRUE(changed);
}
