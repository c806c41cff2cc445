// Model and added-token behaviours on small hand-made tokenizer.json files,
// each expectation derived from the Rust `tokenizers` rules.
#include <gtest/gtest.h>

#include "tokenizers/tokenizer.h"

using ia::Tokenizer;
using Strs = std::vector<std::string>;

namespace {

Tokenizer bpe_with_prefix(const std::string& extra) {
  std::string j = R"({"version":"1.0","added_tokens":[],"pre_tokenizer":{"type":"WhitespaceSplit"},
    "model":{"type":"BPE","unk_token":"[UNK]","continuing_subword_prefix":"##")" + extra + R"(,
      "vocab":{"a":0,"b":1,"##b":2,"ab":3,"[UNK]":4,"c":5,"##c":6},"merges":[["a","##b"]]}})";
  return Tokenizer::from_json_string(j, "bpe.json");
}

}  // namespace

TEST(TokenizerModels, BpeContinuingSubwordPrefix) {
  // "a" + "##b" merges into "ab" (the prefix of the right part is dropped).
  auto t = bpe_with_prefix("");
  EXPECT_EQ(t.encode("abc", false).tokens, (Strs{"ab", "##c"}));
  EXPECT_EQ(t.encode("ba", false).tokens, (Strs{"b", "[UNK]"}));  // "##a" is unknown
}

TEST(TokenizerModels, BpeDropoutOneDropsEveryMerge) {
  auto t = bpe_with_prefix(R"(,"dropout":1.0)");
  EXPECT_EQ(t.encode("abc", false).tokens, (Strs{"a", "##b", "##c"}));
}

TEST(TokenizerModels, UnigramViterbiAndUnk) {
  auto t = Tokenizer::from_json_string(R"({"model":{"type":"Unigram","unk_id":0,
      "vocab":[["<unk>",0.0],["a",-1.0],["b",-1.0],["ab",-1.5],["abc",-4.0],["c",-2.0]]}})",
                                       "uni.json");
  // "ab"+"c" (-3.5) beats "abc" (-4.0) and "a"+"b"+"c" (-4.0); unknown "xy" is fused into one unk.
  auto e = t.encode("abcxy", false);
  EXPECT_EQ(e.tokens, (Strs{"ab", "c", "xy"}));
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{3, 5, 0}));
}

TEST(TokenizerModels, TemplateFromStrings) {
  auto t = Tokenizer::from_json_string(R"({"pre_tokenizer":{"type":"WhitespaceSplit"},
    "post_processor":{"type":"TemplateProcessing","single":"[CLS] $A [SEP]","pair":"[CLS] $A [SEP] $B:1 [SEP]:1",
      "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[1],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[2],"tokens":["[SEP]"]}}},
    "model":{"type":"WordLevel","unk_token":"u","vocab":{"u":0,"[CLS]":1,"[SEP]":2,"x":3}}})",
                                       "tpl.json");
  auto e = t.encode_pair("x", "x y");
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{1, 3, 2, 3, 0, 2}));
  EXPECT_EQ(e.type_ids, (std::vector<uint32_t>{0, 0, 0, 1, 1, 1}));
}

TEST(TokenizerAddedTokens, StripAndSingleWord) {
  auto t = Tokenizer::from_json_string(R"({"added_tokens":[
      {"id":10,"content":"<m>","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":true},
      {"id":11,"content":"xx","single_word":true,"lstrip":false,"rstrip":false,"normalized":false,"special":false}],
    "pre_tokenizer":{"type":"WhitespaceSplit"},
    "model":{"type":"WordLevel","unk_token":"u","vocab":{"u":0,"a":1,"b":2}}})",
                                       "added.json");
  auto e = t.encode("a  <m> b", false);
  // lstrip/rstrip: the token absorbs the surrounding spaces, in its string and its offsets.
  EXPECT_EQ(e.tokens, (Strs{"a", "  <m> ", "b"}));
  EXPECT_EQ(e.offsets[1], (ia::tok::Offsets{1, 7}));
  EXPECT_EQ(t.decode(e.ids, true), "a b");
  // single_word: "xx" inside "axx" is not a match; the free-standing one is.
  auto f = t.encode("axx xx", false);
  EXPECT_EQ(f.ids, (std::vector<uint32_t>{0, 4}));
  // Added tokens are numbered after the 3-entry vocabulary, in file order.
  EXPECT_EQ(*t.token_to_id("<m>"), 3u);
  EXPECT_EQ(*t.token_to_id("xx"), 4u);
}
