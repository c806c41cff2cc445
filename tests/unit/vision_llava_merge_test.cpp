// LLaVA's image-token expansion (4.44 _merge_input_ids_with_image_features) on
// hand-checked inputs: right/left alignment, pad zeroing, positions, and the
// mismatch error.
#include <gtest/gtest.h>

#include "core/error.h"
#include "templates/multimodal/llava_merge.h"

using namespace ia;

namespace {

constexpr int64_t kImg = 9, kPad = 0, E = 2, P = 3;

// Text embedding of token t at row b: (t, 100 b); image feature i of patch p: (-(i*10+p) - 1, -1).
struct Data {
  std::vector<int64_t> ids, mask;
  std::vector<float> text, feats;
};

Data make(const std::vector<int64_t>& ids, const std::vector<int64_t>& mask, int64_t B, int64_t n_images) {
  Data d{ids, mask, {}, {}};
  const int64_t S = int64_t(ids.size()) / B;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) d.text.insert(d.text.end(), {float(ids[size_t(b * S + s)]), float(100 * b)});
  for (int64_t i = 0; i < n_images; ++i)
    for (int64_t p = 0; p < P; ++p) d.feats.insert(d.feats.end(), {float(-(i * 10 + p) - 1), -1.f});
  return d;
}

LlavaMerged run(const Data& d, int64_t B, int64_t n_images) {
  LlavaMergeInput in;
  in.batch = B;
  in.seq = int64_t(d.ids.size()) / B;
  in.embed_dim = E;
  in.input_ids = d.ids.data();
  in.attention_mask = d.mask.data();
  in.text_embeds = d.text.data();
  in.num_images = n_images;
  in.num_patches = P;
  in.image_features = d.feats.data();
  in.image_token_index = kImg;
  in.pad_token_id = kPad;
  return llava_merge_image_features(in);
}

}  // namespace

TEST(VisionLlavaMerge, OneImageExpandsInPlace) {
  Data d = make({5, kImg, 6}, {1, 1, 1}, 1, 1);
  LlavaMerged m = run(d, 1, 1);
  ASSERT_EQ(m.length, 5);
  const std::vector<float> want = {5, 0, -1, -1, -2, -1, -3, -1, 6, 0};
  EXPECT_EQ(m.embeds, want);
  EXPECT_EQ(m.attention_mask, (std::vector<int64_t>{1, 1, 1, 1, 1}));
  EXPECT_EQ(m.position_ids, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(VisionLlavaMerge, LeftPaddingAlignsRowsAndZeroesPads) {
  // Row 0 has no image (and pads on the left), row 1 has one: rows end aligned.
  Data d = make({kPad, 7, 8, 4, kImg, 6}, {0, 1, 1, 1, 1, 1}, 2, 1);
  LlavaMerged m = run(d, 2, 1);
  ASSERT_EQ(m.length, 5);  // max one image: 1 * (3 - 1) + 3
  // Row 0: nb_image_pad = 5 - 1 - 2 = 2 -> tokens at 2, 3, 4; slots 0, 1 stay empty.
  EXPECT_EQ(std::vector<int64_t>(m.attention_mask.begin(), m.attention_mask.begin() + 5),
            (std::vector<int64_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(std::vector<int64_t>(m.position_ids.begin(), m.position_ids.begin() + 5),
            (std::vector<int64_t>{1, 1, 1, 0, 1}));
  EXPECT_EQ(m.embeds[2 * E], 0.f);      // the pad token's embedding is zeroed
  EXPECT_EQ(m.embeds[3 * E], 7.f);
  EXPECT_EQ(m.embeds[4 * E], 8.f);
  // Row 1: 4 at 0, image at 1..3, 6 at 4.
  const float* r1 = m.embeds.data() + 5 * E;
  EXPECT_EQ(r1[0], 4.f);
  EXPECT_EQ(r1[1], 100.f);
  EXPECT_EQ(r1[2], -1.f);
  EXPECT_EQ(r1[3 * E], -3.f);
  EXPECT_EQ(r1[4 * E], 6.f);
  EXPECT_EQ(std::vector<int64_t>(m.position_ids.begin() + 5, m.position_ids.end()),
            (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(VisionLlavaMerge, TwoImagesInOneRowTakeFeaturesInOrder) {
  Data d = make({kImg, 3, kImg}, {1, 1, 1}, 1, 2);
  LlavaMerged m = run(d, 1, 2);
  ASSERT_EQ(m.length, 7);
  const std::vector<float> firsts = {m.embeds[0], m.embeds[2 * E], m.embeds[3 * E], m.embeds[4 * E],
                                     m.embeds[6 * E]};
  EXPECT_EQ(firsts, (std::vector<float>{-1, -3, 3, -11, -13}));
}

TEST(VisionLlavaMerge, ImageCountMismatchIsAnError) {
  Data d = make({5, kImg, 6}, {1, 1, 1}, 1, 2);
  try {
    run(d, 1, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("number of image tokens is 1"), std::string::npos) << e.what();
  }
  Data none = make({5, 6, 7}, {1, 1, 1}, 1, 1);
  EXPECT_THROW(run(none, 1, 1), Error);
}
