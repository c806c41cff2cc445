// SafetensorsFile: every malformed-header case must give an ia::Error naming the
// file (and the tensor where one is at fault); valid files must read back exactly.
#include <gtest/gtest.h>

#include <cstring>
#include <iterator>
#include <vector>

#include "formats/safetensors.h"
#include "formats_test_util.h"

namespace ia {
namespace {

using test::expect_error;
using test::st_image;

const char* kLabel = "bad.safetensors";

void parse(const std::string& bytes) { SafetensorsFile::from_bytes(bytes, kLabel); }

TEST(FormatsSafetensorsBad, ShorterThanEightBytes) {
  expect_error([] { parse(""); }, {kLabel, "truncated", "0 bytes"});
  expect_error([] { parse("abcdefg"); }, {kLabel, "truncated", "7 bytes"});
}

TEST(FormatsSafetensorsBad, HeaderLengthPastEndOfFile) {
  std::string img = st_image("{}");
  img[0] = 100;  // claims 100 header bytes, only 2 present
  expect_error([&] { parse(img); }, {kLabel, "header length 100", "past the end"});
}

TEST(FormatsSafetensorsBad, HugeHeaderLength) {
  std::string img = st_image("{}");
  for (int i = 0; i < 8; ++i) img[size_t(i)] = char(0xff);
  expect_error([&] { parse(img); }, {kLabel, "exceeds the 100 MiB limit"});
  std::string just_over = st_image("{}");
  uint64_t n = (100ull << 20) + 1;
  for (int i = 0; i < 8; ++i) just_over[size_t(i)] = char((n >> (8 * i)) & 0xff);
  expect_error([&] { parse(just_over); }, {kLabel, "exceeds the 100 MiB limit"});
}

TEST(FormatsSafetensorsBad, MalformedJson) {
  expect_error([] { parse(st_image("{\"w\": ")); }, {kLabel, "malformed safetensors header JSON"});
  expect_error([] { parse(st_image("not json")); }, {kLabel, "malformed safetensors header JSON"});
  expect_error([] { parse(st_image("")); }, {kLabel, "malformed safetensors header JSON"});
}

TEST(FormatsSafetensorsBad, NonUtf8Header) {
  std::string h = "{\"w\xff\xfe\": {\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}";
  expect_error([&] { parse(st_image(h)); }, {kLabel, "malformed safetensors header JSON"});
  std::string overlong = "{\"\xc0\xaf\": {\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}";
  expect_error([&] { parse(st_image(overlong)); }, {kLabel, "malformed safetensors header JSON"});
}

TEST(FormatsSafetensorsBad, HeaderNotAnObject) {
  expect_error([] { parse(st_image("[1, 2]")); }, {kLabel, "not a JSON object"});
  expect_error([] { parse(st_image("42")); }, {kLabel, "not a JSON object"});
  expect_error([] { parse(st_image("\"x\"")); }, {kLabel, "not a JSON object"});
}

TEST(FormatsSafetensorsBad, EntryNotAnObject) {
  expect_error([] { parse(st_image("{\"emb.weight\": [1]}")); }, {kLabel, "'emb.weight'", "not an object"});
}

TEST(FormatsSafetensorsBad, MissingFields) {
  std::string data(8, '\0');
  expect_error([&] { parse(st_image(R"({"w": {"shape":[2],"data_offsets":[0,8]}})", data)); },
               {kLabel, "'w'", "'dtype'"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","data_offsets":[0,8]}})", data)); },
               {kLabel, "'w'", "'shape'"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[2]}})", data)); },
               {kLabel, "'w'", "'data_offsets'"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":7,"shape":[2],"data_offsets":[0,8]}})", data)); },
               {kLabel, "'w'", "'dtype'"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":2,"data_offsets":[0,8]}})", data)); },
               {kLabel, "'w'", "'shape'"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[2],"data_offsets":[0]}})", data)); },
               {kLabel, "'w'", "'data_offsets'"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", data)); },
               {kLabel, "'w'", "'data_offsets'"});
}

TEST(FormatsSafetensorsBad, UnknownDtype) {
  expect_error([] { parse(st_image(R"({"w": {"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", "ab")); },
               {kLabel, "'w'", "unsupported dtype 'F8_E4M3'"});
  expect_error([] { parse(st_image(R"({"w": {"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", "abcd")); },
               {kLabel, "'w'", "unsupported dtype 'f32'"});
}

TEST(FormatsSafetensorsBad, BadShapeEntries) {
  std::string data(8, '\0');
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data)); },
               {kLabel, "'w'", "non-negative integers"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", data)); },
               {kLabel, "'w'", "non-negative integers"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", data)); },
               {kLabel, "'w'", "non-negative integers"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[null],"data_offsets":[0,8]}})", data)); },
               {kLabel, "'w'", "non-negative integers"});
}

TEST(FormatsSafetensorsBad, ShapeOverflow) {
  expect_error(
      [] { parse(st_image(R"({"w": {"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})", "12345678")); },
      {kLabel, "'w'", "overflows"});
  expect_error([] { parse(st_image(R"({"w": {"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8]}})", "12345678")); },
               {kLabel, "'w'", "overflows"});
  // 2^31 * 2^31 elements of 4 bytes wraps a 64-bit byte count if unchecked.
  expect_error([] { parse(st_image(R"({"w": {"dtype":"F32","shape":[2147483648,2147483648,4],"data_offsets":[0,8]}})", "12345678")); },
               {kLabel, "'w'", "overflows"});
}

TEST(FormatsSafetensorsBad, BadDataOffsets) {
  std::string data(8, '\0');
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", data)); },
               {kLabel, "'w'", "non-negative"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[2],"data_offsets":[0.0,8.0]}})", data)); },
               {kLabel, "'w'", "non-negative"});
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", data)); },
               {kLabel, "'w'", "begin 8 > end 0"});
}

TEST(FormatsSafetensorsBad, OffsetsPastDataSection) {
  expect_error([] { parse(st_image(R"({"w": {"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0'))); },
               {kLabel, "'w'", "outside the data section", "8 bytes"});
  expect_error([] { parse(st_image(R"({"w": {"dtype":"F32","shape":[0],"data_offsets":[9,9]}})", std::string(8, '\0'))); },
               {kLabel, "'w'", "outside the data section"});
  expect_error(
      [] { parse(st_image(R"({"w": {"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}})", "x")); },
      {kLabel, "'w'", "outside the data section"});
}

TEST(FormatsSafetensorsBad, SizeMismatch) {
  expect_error([] { parse(st_image(R"({"w": {"dtype":"F32","shape":[4],"data_offsets":[0,12]}})", std::string(16, '\0'))); },
               {kLabel, "'w'", "needs 16 bytes", "span 12"});
  expect_error([] { parse(st_image(R"({"w": {"dtype":"BF16","shape":[2,2],"data_offsets":[0,16]}})", std::string(16, '\0'))); },
               {kLabel, "'w'", "needs 8 bytes", "span 16"});
}

TEST(FormatsSafetensorsBad, OverlappingTensors) {
  std::string data(16, '\0');
  expect_error([&] { parse(st_image(R"({"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                                         "b": {"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", data)); },
               {kLabel, "'a'", "'b'", "overlap"});
  expect_error([&] { parse(st_image(R"({"a": {"dtype":"F32","shape":[4],"data_offsets":[0,16]},
                                         "b": {"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data)); },
               {kLabel, "'a'", "'b'", "overlap"});
  expect_error([&] { parse(st_image(R"({"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                                         "b": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data)); },
               {kLabel, "overlap"});
}

// Regression: an empty tensor sorted between two overlapping ones hid the overlap.
TEST(FormatsSafetensorsBad, OverlapHiddenBehindEmptyTensor) {
  std::string data(16, '\0');
  expect_error([&] { parse(st_image(R"({"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                                         "e": {"dtype":"F32","shape":[0],"data_offsets":[4,4]},
                                         "b": {"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", data)); },
               {kLabel, "'a'", "'b'", "overlap"});
}

TEST(FormatsSafetensorsBad, DuplicateTensorNames) {
  std::string data(8, '\0');
  expect_error([&] { parse(st_image(R"({"w": {"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                                         "w": {"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data)); },
               {kLabel, "'w'", "more than once"});
}

TEST(FormatsSafetensorsBad, BadMetadata) {
  expect_error([] { parse(st_image(R"({"__metadata__": [1]})")); }, {kLabel, "__metadata__", "object"});
  expect_error([] { parse(st_image(R"({"__metadata__": {"format": 1}})")); }, {kLabel, "__metadata__", "'format'"});
}

TEST(FormatsSafetensorsBad, ErrorsFromDiskNameThePath) {
  test::ScratchDir dir;
  std::string p = dir.write("broken.safetensors", st_image(R"({"w": {"dtype":"F32","shape":[4],"data_offsets":[0,16]}})"));
  expect_error([&] { SafetensorsFile::open(p); }, {p, "'w'", "outside the data section"});
  std::string empty = dir.write("empty.safetensors", "");
  expect_error([&] { SafetensorsFile::open(empty); }, {empty, "truncated"});
  expect_error([&] { SafetensorsFile::open(dir.file("absent.safetensors")); }, {"absent.safetensors", "cannot open"});
  expect_error([&] { SafetensorsFile::open(dir.str()); }, {dir.str(), "not a regular file"});
}

TEST(FormatsSafetensorsBad, LookupOfMissingTensor) {
  auto f = SafetensorsFile::from_bytes(st_image("{}"), kLabel);
  EXPECT_FALSE(f->has("w"));
  expect_error([&] { f->tensor("w"); }, {kLabel, "no tensor named 'w'"});
  expect_error([&] { f->info("w"); }, {kLabel, "no tensor named 'w'"});
}

// ---- valid files ----

template <typename T>
Tensor make_tensor(DType dt, Shape shape, const std::vector<T>& values) {
  Tensor t = Tensor::empty(dt, std::move(shape));
  EXPECT_EQ(t.nbytes(), values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

TEST(FormatsSafetensorsGood, EveryDtypeReadsBack) {
  test::ScratchDir dir;
  std::vector<std::pair<std::string, Tensor>> ts = {
      {"f32", make_tensor<float>(DType::F32, {2, 3}, {1.5f, -2.f, 0.f, 3.25f, 1e-30f, -7.f})},
      {"f16", make_tensor<uint16_t>(DType::F16, {3}, {0x3c00, 0xc000, 0x0001})},
      {"bf16", make_tensor<uint16_t>(DType::BF16, {1, 3}, {0x3f80, 0xc000, 0x7f80})},
      {"f64", make_tensor<double>(DType::F64, {2}, {0.1, -1e300})},
      {"i64", make_tensor<int64_t>(DType::I64, {3}, {INT64_MIN, -1, INT64_MAX})},
      {"i32", make_tensor<int32_t>(DType::I32, {2}, {INT32_MIN, 123456})},
      {"i16", make_tensor<int16_t>(DType::I16, {2}, {-32768, 77})},
      {"i8", make_tensor<int8_t>(DType::I8, {3}, {-128, 0, 127})},
      {"u8", make_tensor<uint8_t>(DType::U8, {3}, {0, 128, 255})},
      {"bool", make_tensor<uint8_t>(DType::BOOL, {2, 2}, {1, 0, 0, 1})},
  };
  std::string p = dir.file("all.safetensors");
  write_safetensors(p, ts, {{"format", "pt"}});
  auto f = SafetensorsFile::open(p);
  ASSERT_EQ(f->tensors().size(), ts.size());
  for (const auto& [name, want] : ts) {
    SCOPED_TRACE(name);
    Tensor got = f->tensor(name);
    EXPECT_EQ(got.dtype(), want.dtype());
    EXPECT_EQ(got.shape(), want.shape());
    ASSERT_EQ(got.nbytes(), want.nbytes());
    EXPECT_EQ(std::memcmp(got.raw(), want.raw(), want.nbytes()), 0);
    EXPECT_EQ(f->info(name).end - f->info(name).begin, want.nbytes());
  }
  EXPECT_EQ(f->metadata().at("format"), "pt");
  // The same image parsed from memory agrees.
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto g = SafetensorsFile::from_bytes(bytes, "mem");
  EXPECT_EQ(g->tensor("i64").i64()[2], INT64_MAX);
  EXPECT_FLOAT_EQ(g->tensor("f32").to_f32().f32()[3], 3.25f);
}

TEST(FormatsSafetensorsGood, AlignedF32IsZeroCopy) {
  test::ScratchDir dir;
  std::string p = dir.file("w.safetensors");
  write_safetensors(p, {{"w", Tensor::from_vector({1, 2, 3, 4}, {2, 2})}});
  auto f = SafetensorsFile::open(p);
  Tensor a = f->tensor("w"), b = f->tensor("w");
  EXPECT_EQ(a.raw(), b.raw()) << "two reads of an aligned tensor should view the same mapped bytes";
  // The view keeps the mapping alive after the file object is dropped.
  f.reset();
  EXPECT_EQ(a.f32()[3], 4.f);
}

TEST(FormatsSafetensorsGood, MisalignedTensorIsCopiedAligned) {
  float vals[2] = {1.25f, -8.5f};
  std::string data = "xy";  // two U8 bytes push the F32 tensor to offset 2
  data.append(reinterpret_cast<const char*>(vals), 8);
  std::string h = R"({"pad": {"dtype":"U8","shape":[2],"data_offsets":[0,2]},
                      "w": {"dtype":"F32","shape":[2],"data_offsets":[2,10]}})";
  // Pad the header so the data section itself starts 8-aligned.
  while ((8 + h.size()) % 8) h.push_back(' ');
  auto f = SafetensorsFile::from_bytes(st_image(h, data), "mis");
  Tensor w = f->tensor("w");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w.raw()) % 4, 0u);
  EXPECT_EQ(w.f32()[0], 1.25f);
  EXPECT_EQ(w.f32()[1], -8.5f);
  EXPECT_EQ(f->tensor("pad").shape(), Shape{2});
}

TEST(FormatsSafetensorsGood, EmptyAndScalarTensors) {
  float one = 3.f;
  std::string data(reinterpret_cast<const char*>(&one), 4);
  auto f = SafetensorsFile::from_bytes(
      st_image(R"({"e": {"dtype":"F32","shape":[0],"data_offsets":[0,0]},
                   "e2": {"dtype":"BF16","shape":[3,0,2],"data_offsets":[4,4]},
                   "s": {"dtype":"F32","shape":[],"data_offsets":[0,4]}})", data),
      "empty");
  EXPECT_EQ(f->tensor("e").numel(), 0);
  EXPECT_EQ(f->tensor("e2").shape(), (Shape{3, 0, 2}));
  EXPECT_EQ(f->tensor("e2").to_f32().numel(), 0);
  EXPECT_EQ(f->tensor("s").rank(), 0);
  EXPECT_EQ(f->tensor("s").f32()[0], 3.f);
}

TEST(FormatsSafetensorsGood, EmptyHeaderAndMetadataOnly) {
  auto f = SafetensorsFile::from_bytes(st_image(R"({"__metadata__": {"format": "pt", "note": "é"}})"), "meta");
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata().at("note"), "é");
  EXPECT_TRUE(SafetensorsFile::from_bytes(st_image("{}"), "e")->tensors().empty());
  // Trailing spaces pad the header, as the reference writer does.
  EXPECT_TRUE(SafetensorsFile::from_bytes(st_image("{}      "), "e")->tensors().empty());
}

TEST(FormatsSafetensorsGood, WriterRoundTripsEmptyFile) {
  test::ScratchDir dir;
  std::string p = dir.file("none.safetensors");
  write_safetensors(p, {});
  EXPECT_TRUE(SafetensorsFile::open(p)->tensors().empty());
}

}  // namespace
}  // namespace ia
