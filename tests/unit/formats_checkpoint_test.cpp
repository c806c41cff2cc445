// Checkpoint::open_dir: single files, sharded indexes and every way an index can
// disagree with the shards on disk.
#include <gtest/gtest.h>

#include "formats/checkpoint.h"
#include "formats_test_util.h"

namespace ia {
namespace {

using test::expect_error;
using test::ScratchDir;

Tensor vec(std::vector<float> v) {
  Shape s{int64_t(v.size())};
  return Tensor::from_vector(v, s);
}

// Two shards: a.weight + a.bias in shard 1, b.weight in shard 2.
void write_two_shards(const ScratchDir& d) {
  write_safetensors(d.file("model-00001-of-00002.safetensors"), {{"a.weight", vec({1, 2})}, {"a.bias", vec({3})}});
  write_safetensors(d.file("model-00002-of-00002.safetensors"), {{"b.weight", vec({4, 5, 6})}});
}

std::string index_json(const std::string& weight_map) {
  return R"({"metadata": {"total_size": 24}, "weight_map": )" + weight_map + "}";
}

const char* kGoodMap = R"({"a.weight": "model-00001-of-00002.safetensors",
                           "a.bias": "model-00001-of-00002.safetensors",
                           "b.weight": "model-00002-of-00002.safetensors"})";

TEST(FormatsCheckpoint, SingleFile) {
  ScratchDir d;
  write_safetensors(d.file("model.safetensors"), {{"w", vec({7, 8})}});
  auto ck = Checkpoint::open_dir(d.str());
  EXPECT_TRUE(ck->has("w"));
  EXPECT_EQ(ck->get("w").f32()[1], 8.f);
  EXPECT_EQ(ck->names(), std::vector<std::string>{"w"});
  EXPECT_NE(ck->description().find("model.safetensors"), std::string::npos);
}

TEST(FormatsCheckpoint, ShardedIndexResolvesNames) {
  ScratchDir d;
  write_two_shards(d);
  d.write("model.safetensors.index.json", index_json(kGoodMap));
  auto ck = Checkpoint::open_dir(d.str());
  EXPECT_EQ(ck->files().size(), 2u);
  EXPECT_NE(ck->file_of("a.bias").find("model-00001-of-00002"), std::string::npos);
  EXPECT_NE(ck->file_of("b.weight").find("model-00002-of-00002"), std::string::npos);
  EXPECT_EQ(ck->get("b.weight").f32()[2], 6.f);
  EXPECT_EQ(ck->info("a.weight").shape, Shape{2});
  EXPECT_TRUE(ck->has_prefix("a."));
  EXPECT_TRUE(ck->has_prefix("b.w"));
  EXPECT_FALSE(ck->has_prefix("c."));
  EXPECT_NE(ck->description().find("2 shards"), std::string::npos);
  expect_error([&] { ck->get("c.weight"); }, {"'c.weight'", "missing tensor"});
  expect_error([&] { ck->info("c.weight"); }, {"'c.weight'"});
  expect_error([&] { ck->file_of("c.weight"); }, {"'c.weight'"});
}

TEST(FormatsCheckpoint, IndexWinsOverSingleFile) {
  ScratchDir d;
  write_two_shards(d);
  write_safetensors(d.file("model.safetensors"), {{"stale", vec({0})}});
  d.write("model.safetensors.index.json", index_json(kGoodMap));
  auto ck = Checkpoint::open_dir(d.str());
  EXPECT_FALSE(ck->has("stale"));
  EXPECT_TRUE(ck->has("b.weight"));
}

TEST(FormatsCheckpoint, IndexNamesMissingShard) {
  ScratchDir d;
  write_two_shards(d);
  d.write("model.safetensors.index.json",
          index_json(R"({"a.weight": "model-00001-of-00002.safetensors", "c.weight": "model-00003-of-00003.safetensors"})"));
  expect_error([&] { Checkpoint::open_dir(d.str()); },
               {"model.safetensors.index.json", "'model-00003-of-00003.safetensors'", "does not exist"});
}

TEST(FormatsCheckpoint, TensorMissingFromItsShard) {
  ScratchDir d;
  write_two_shards(d);
  d.write("model.safetensors.index.json",
          index_json(R"({"a.weight": "model-00001-of-00002.safetensors", "ghost": "model-00002-of-00002.safetensors"})"));
  expect_error([&] { Checkpoint::open_dir(d.str()); },
               {"model.safetensors.index.json", "'ghost'", "missing from model-00002-of-00002.safetensors"});
}

TEST(FormatsCheckpoint, TensorInOtherShardThanIndexSays) {
  ScratchDir d;
  write_two_shards(d);
  d.write("model.safetensors.index.json",
          index_json(R"({"a.weight": "model-00002-of-00002.safetensors", "b.weight": "model-00001-of-00002.safetensors"})"));
  expect_error([&] { Checkpoint::open_dir(d.str()); }, {"model.safetensors.index.json", "weight_map says"});
}

TEST(FormatsCheckpoint, WeightMapPathTraversal) {
  ScratchDir d;
  write_two_shards(d);
  for (const char* evil : {"../model-00001-of-00002.safetensors", "/etc/passwd", "sub/model.safetensors", ".."}) {
    SCOPED_TRACE(evil);
    d.write("model.safetensors.index.json", index_json(std::string(R"({"a.weight": ")") + evil + "\"}"));
    expect_error([&] { Checkpoint::open_dir(d.str()); }, {"model.safetensors.index.json", "'a.weight'", "outside the directory"});
  }
}

TEST(FormatsCheckpoint, MalformedIndex) {
  ScratchDir d;
  write_two_shards(d);
  d.write("model.safetensors.index.json", "{\"weight_map\": ");
  expect_error([&] { Checkpoint::open_dir(d.str()); }, {"model.safetensors.index.json", "malformed JSON"});
  d.write("model.safetensors.index.json", R"({"metadata": {}})");
  expect_error([&] { Checkpoint::open_dir(d.str()); }, {"model.safetensors.index.json", "'weight_map'"});
  d.write("model.safetensors.index.json", R"([1, 2])");
  expect_error([&] { Checkpoint::open_dir(d.str()); }, {"model.safetensors.index.json", "'weight_map'"});
  d.write("model.safetensors.index.json", index_json(R"({"a.weight": 3})"));
  expect_error([&] { Checkpoint::open_dir(d.str()); }, {"model.safetensors.index.json", "'a.weight'", "not a file name"});
}

TEST(FormatsCheckpoint, BrokenShardIsNamed) {
  ScratchDir d;
  write_two_shards(d);
  d.write("model-00002-of-00002.safetensors", test::st_image("{oops"));
  d.write("model.safetensors.index.json", index_json(kGoodMap));
  expect_error([&] { Checkpoint::open_dir(d.str()); }, {"model-00002-of-00002.safetensors", "malformed"});
}

TEST(FormatsCheckpoint, OnlyPytorchBin) {
  ScratchDir d;
  d.write("pytorch_model.bin", "PK\x03\x04 not really a zip");
  expect_error([&] { Checkpoint::open_dir(d.str()); }, {d.str(), "no model.safetensors", "pytorch_model.bin"});
}

TEST(FormatsCheckpoint, EmptyOrMissingDirectory) {
  ScratchDir d;
  std::string msg = expect_error([&] { Checkpoint::open_dir(d.str()); }, {d.str(), "no model.safetensors"});
  EXPECT_EQ(msg.find("pytorch_model.bin"), std::string::npos);
  expect_error([&] { Checkpoint::open_dir(d.file("nope")); }, {"nope", "not a directory"});
}

TEST(FormatsCheckpoint, DuplicateTensorAcrossFiles) {
  ScratchDir d;
  write_safetensors(d.file("x.safetensors"), {{"w", vec({1})}});
  write_safetensors(d.file("y.safetensors"), {{"w", vec({2})}});
  expect_error([&] { Checkpoint::open_files({d.file("x.safetensors"), d.file("y.safetensors")}); },
               {"'w'", "x.safetensors", "y.safetensors"});
}

}  // namespace
}  // namespace ia
