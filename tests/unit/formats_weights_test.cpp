// Malformed checkpoints as model code meets them through Weights: missing
// tensors, wrong shapes and wrong dtypes must name the file, tensor and shapes.
#include <gtest/gtest.h>

#include "formats_test_util.h"
#include "parts/weights.h"

namespace ia {
namespace {

using test::expect_error;

class FormatsWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    Tensor ids = Tensor::from_vector_i64({1, 2}, {2});
    Tensor f64 = Tensor::empty(DType::F64, {2});
    static_cast<double*>(f64.raw())[0] = 1.5;
    static_cast<double*>(f64.raw())[1] = -2.5;
    Tensor i16 = Tensor::zeros(DType::I16, {2});
    path_ = dir_.file("model.safetensors");
    write_safetensors(path_, {{"bert.embeddings.word_embeddings.weight", Tensor::from_vector({1, 2, 3, 4, 5, 6}, {3, 2})},
                              {"bert.pooler.dense.bias", Tensor::from_vector({0.5f, 0.25f}, {2})},
                              {"position_ids", ids},
                              {"f64", f64},
                              {"i16", i16}});
    root_ = Weights(Checkpoint::open_dir(dir_.str()));
  }
  test::ScratchDir dir_;
  std::string path_;
  Weights root_;
};

TEST_F(FormatsWeights, MissingTensorNamesFullPath) {
  Weights enc = root_.pp("bert").pp("encoder").pp("layer").pp(0);
  expect_error([&] { enc.get("attention.self.query.weight"); },
               {path_, "missing tensor 'bert.encoder.layer.0.attention.self.query.weight'"});
  EXPECT_FALSE(enc.maybe("attention.self.query.weight").has_value());
  EXPECT_FALSE(enc.has_module());
  EXPECT_TRUE(root_.pp("bert").has_module("pooler"));
}

TEST_F(FormatsWeights, WrongShapeNamesBothShapes) {
  Weights emb = root_.pp("bert").pp("embeddings");
  expect_error([&] { emb.get("word_embeddings.weight", {30522, 768}); },
               {path_, "'bert.embeddings.word_embeddings.weight'", "[3, 2]", "[30522, 768]"});
  expect_error([&] { emb.get_raw("word_embeddings.weight", {2, 3}); }, {"[3, 2]", "[2, 3]"});
  expect_error([&] { root_.pp("bert").maybe("pooler.dense.bias", {3}); }, {"'bert.pooler.dense.bias'", "[2]", "[3]"});
  EXPECT_EQ(emb.get("word_embeddings.weight", {3, 2}).f32()[5], 6.f);
}

TEST_F(FormatsWeights, DtypesConvertOrFailClearly) {
  EXPECT_EQ(root_.get("position_ids").f32()[1], 2.f);
  EXPECT_EQ(root_.get("f64").f32()[1], -2.5f);
  EXPECT_EQ(root_.get_raw("position_ids").dtype(), DType::I64);
  expect_error([&] { root_.get("i16"); }, {path_, "'i16'", "I16"});
}

TEST_F(FormatsWeights, ResolveBaseListsWhatItTried) {
  EXPECT_EQ(resolve_base(root_, {"bert", ""}, "embeddings.word_embeddings.weight").prefix(), "bert");
  expect_error([&] { resolve_base(root_, {"roberta", ""}, "embeddings.word_embeddings.weight"); },
               {"cannot find the base model weights", "'roberta.embeddings.word_embeddings.weight'",
                "'embeddings.word_embeddings.weight'"});
}

TEST(FormatsWeightNorm, ComputesGTimesVOverNormAndRejectsEmpty) {
  test::ScratchDir dir;
  // v [2, 1, 2] normalised over all dims but 2: column j has norm sqrt(v[0,0,j]^2 + v[1,0,j]^2).
  write_safetensors(dir.file("model.safetensors"),
                    {{"conv.weight_g", Tensor::from_vector({2.f, 10.f}, {1, 1, 2})},
                     {"conv.weight_v", Tensor::from_vector({3.f, 1.f, 4.f, 0.f}, {2, 1, 2})},
                     {"empty.weight_g", Tensor::f32({1, 1, 0})},
                     {"empty.weight_v", Tensor::f32({2, 1, 0})}});
  Weights root(Checkpoint::open_dir(dir.str()));
  Tensor w = get_weight_norm(root, "conv", 2);
  EXPECT_FLOAT_EQ(w.f32()[0], 2.f * 3.f / 5.f);
  EXPECT_FLOAT_EQ(w.f32()[2], 2.f * 4.f / 5.f);
  EXPECT_FLOAT_EQ(w.f32()[1], 10.f);
  EXPECT_FLOAT_EQ(w.f32()[3], 0.f);
  expect_error([&] { get_weight_norm(root, "empty", 2); }, {"empty.weight_v is empty"});
}

}  // namespace
}  // namespace ia
