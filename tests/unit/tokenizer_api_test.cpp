// Tokenizer facade tests: loading errors name the file and field, invalid
// UTF-8 does not crash, truncation/padding and the bundled fixtures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/error.h"
#include "tokenizers/tokenizer.h"

using ia::Tokenizer;

namespace {

const char* kWordLevel = R"({"version":"1.0","added_tokens":[
  {"id":0,"content":"[UNK]","special":true,"normalized":false,"lstrip":false,"rstrip":false,"single_word":false},
  {"id":1,"content":"[CLS]","special":true,"normalized":false,"lstrip":false,"rstrip":false,"single_word":false},
  {"id":2,"content":"[SEP]","special":true,"normalized":false,"lstrip":false,"rstrip":false,"single_word":false}],
 "normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"Whitespace"},
 "post_processor":{"type":"BertProcessing","sep":["[SEP]",2],"cls":["[CLS]",1]},
 "decoder":null,
 "model":{"type":"WordLevel","unk_token":"[UNK]","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"hello":3,"world":4,"!":5}}})";

std::string error_of(const std::string& text) {
  try {
    Tokenizer::from_json_string(text, "tok.json");
  } catch (const ia::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TokenizerApi, EncodeDecodeWordLevel) {
  auto t = Tokenizer::from_json_string(kWordLevel, "mem");
  auto e = t.encode("Hello WORLD zz!");
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{1, 3, 4, 0, 5, 2}));
  EXPECT_EQ(e.tokens[3], "[UNK]");
  EXPECT_EQ(e.offsets[2], (ia::tok::Offsets{6, 11}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<uint32_t>{1, 0, 0, 0, 0, 1}));
  EXPECT_FALSE(e.word_ids[0].has_value());
  EXPECT_EQ(*e.word_ids[1], 0u);
  EXPECT_EQ(t.decode(e.ids, true), "hello world !");  // [UNK] is a special added token
  EXPECT_EQ(t.decode(e.ids, false), "[CLS] hello world [UNK] ! [SEP]");
  EXPECT_EQ(t.token_to_id("world"), 4u);
  EXPECT_EQ(t.id_to_token(5), "!");
  EXPECT_EQ(t.vocab_size(), 6u);
  auto p = t.encode_pair("hello", "world");
  EXPECT_EQ(p.type_ids, (std::vector<uint32_t>{0, 0, 0, 1, 1}));
}

TEST(TokenizerApi, TruncationAndPadding) {
  auto t = Tokenizer::from_json_string(kWordLevel, "mem");
  ia::TruncationParams tr;
  tr.max_length = 4;
  t.set_truncation(tr);
  auto e = t.encode("hello world hello world");
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{1, 3, 4, 2}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].ids, (std::vector<uint32_t>{1, 3, 4, 2}));
  t.set_truncation(std::nullopt);
  ia::PaddingParams pp;
  pp.pad_to_multiple_of = 4;
  pp.direction = ia::tok::PaddingDirection::Left;
  t.set_padding(pp);
  auto batch = t.encode_batch({"hello", "hello world world world"});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].size(), 8u);
  EXPECT_EQ(batch[0].attention_mask[0], 0u);
  EXPECT_EQ(batch[0].tokens[0], "[PAD]");
  EXPECT_EQ(batch[1].size(), 8u);
}

TEST(TokenizerApi, InvalidUtf8IsReplacedNotCrashing) {
  auto t = Tokenizer::from_json_string(kWordLevel, "mem");
  std::string bad = "hello \xFF\xC3 world";
  auto e = t.encode(bad, false);
  // "\xFF" and the truncated "\xC3" each become U+FFFD (an unknown word).
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{3, 0, 4}));
}

TEST(TokenizerApi, MalformedFilesNameTheField) {
  EXPECT_NE(error_of("{not json").find("tok.json: invalid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"model":{"type":"Nope"}})").find("tok.json: $.model.type: unknown model type"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model":{"type":"WordLevel","vocab":{"a":"x"}}})").find("$.model.vocab.a"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}})").find("$.model.merges[0]"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"pre_tokenizer":{"type":"Split","pattern":{"Regex":"("},"behavior":"Isolated"},)"
                     R"("model":{"type":"WordLevel","vocab":{}}})")
                .find("$.pre_tokenizer.pattern"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"normalizer":{"type":"Foo"},"model":{"type":"WordLevel","vocab":{}}})")
                .find("$.normalizer.type: unknown normalizer type 'Foo'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"normalizer":null})").find("$.model: missing field"), std::string::npos);
}

TEST(TokenizerApi, BundledFixturesLoadFromDir) {
  auto t = Tokenizer::from_dir(std::string(IA_FIXTURES_DIR) + "/tokenizers/bert-base-uncased");
  EXPECT_EQ(t.pad_token, "[PAD]");
  auto e = t.encode("Hello, world!");
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "hello", ",", "world", "!", "[SEP]"}));
  EXPECT_EQ(t.decode(e.ids, true), "hello, world!");
}

TEST(TokenizerApi, VerifyCommandPassesEveryBundledRecord) {
  std::string cmd = std::string(IA_CLI_PATH) + " verify " + IA_FIXTURES_DIR + "/tokenizers --filter gpt2 > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(TokenizerApi, BatchEqualsOneByOne) {
  auto t = Tokenizer::from_dir(std::string(IA_FIXTURES_DIR) + "/tokenizers/gpt2");
  std::vector<std::string> texts;
  for (int i = 0; i < 100; ++i) texts.push_back("line " + std::to_string(i) + " of the batch, with words" + std::string(i % 7, '!'));
  auto batch = t.encode_batch(texts, true);
  ASSERT_EQ(batch.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i].ids, t.encode(texts[i], true).ids) << i;
}
