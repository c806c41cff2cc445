// Component tests for the tokenizer: each expectation follows from the Rust
// `tokenizers` semantics (pre-tokenizer split behaviours, normalizer offset
// tracking, decoders) on small strings.
#include <gtest/gtest.h>

#include "tokenizers/decoders.h"
#include "tokenizers/json_util.h"
#include "tokenizers/normalizers.h"
#include "tokenizers/pre_tokenizers.h"
#include "tokenizers/regex.h"

using namespace ia::tok;

namespace {

JPath here() { return {"test", "$"}; }

// Pre-tokenizes `text` and returns (piece, original byte offsets) pairs.
std::vector<std::pair<std::string, Offsets>> pretok(const std::string& spec, const std::string& text) {
  auto pt = pre_tokenizer_from_json(json::parse(spec), here());
  PreTokenizedString p(text);
  pt->pre_tokenize(p);
  std::vector<std::pair<std::string, Offsets>> out;
  for (auto& s : p.splits) out.push_back({s.normalized.get(), s.normalized.offsets_original()});
  return out;
}

std::vector<std::string> pieces(const std::string& spec, const std::string& text) {
  std::vector<std::string> out;
  for (auto& [s, o] : pretok(spec, text)) out.push_back(s);
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST(TokenizerPreTokenizers, SplitBehaviours) {
  // Splitting "a-b--c" on "-" with every behaviour (Rust SplitDelimiterBehavior docs).
  auto split = [](const char* behavior) {
    return pieces(std::string(R"({"type":"Split","pattern":{"String":"-"},"invert":false,"behavior":")") + behavior +
                      "\"}",
                  "a-b--c");
  };
  EXPECT_EQ(split("Removed"), (V{"a", "b", "c"}));
  EXPECT_EQ(split("Isolated"), (V{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(split("MergedWithPrevious"), (V{"a-", "b-", "-", "c"}));
  EXPECT_EQ(split("MergedWithNext"), (V{"a", "-b", "-", "-c"}));
  EXPECT_EQ(split("Contiguous"), (V{"a", "-", "b", "--", "c"}));
}

TEST(TokenizerPreTokenizers, SplitInvertKeepsMatchesAsPieces) {
  // invert: the regex matches become the "non-delimiters"; Removed drops the gaps.
  EXPECT_EQ(pieces(R"({"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Removed","invert":true})", "ab, cd"),
            (V{"ab", "cd"}));
}

TEST(TokenizerPreTokenizers, WhitespaceAndPunctuationAndDigits) {
  EXPECT_EQ(pieces(R"({"type":"Whitespace"})", "Hey man!! 12ab"), (V{"Hey", "man", "!!", "12ab"}));
  EXPECT_EQ(pieces(R"({"type":"WhitespaceSplit"})", "a\u2003b\u0085c"), (V{"a", "b", "c"}));
  EXPECT_EQ(pieces(R"({"type":"Punctuation"})", "a,b$"), (V{"a", ",", "b", "$"}));
  EXPECT_EQ(pieces(R"({"type":"Digits","individual_digits":true})", "a12½"), (V{"a", "1", "2", "½"}));
  EXPECT_EQ(pieces(R"({"type":"Digits","individual_digits":false})", "a12b3"), (V{"a", "12", "b", "3"}));
  EXPECT_EQ(pieces(R"({"type":"BertPreTokenizer"})", "Hi, you!"), (V{"Hi", ",", "you", "!"}));
}

TEST(TokenizerPreTokenizers, ByteLevelMapsBytesAndKeepsOffsets) {
  auto r = pretok(R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})", "Hi é!");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].first, "Hi");
  EXPECT_EQ(r[1].first, "\u0120\u00C3\u00A9");  // " é" -> Ġ + two byte chars
  EXPECT_EQ(r[1].second, (Offsets{2, 5}));
  EXPECT_EQ(r[2].first, "!");
}

TEST(TokenizerPreTokenizers, MetaspacePrependSchemes) {
  EXPECT_EQ(pieces(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})", "a b"),
            (V{"▁a", "▁b"}));
  EXPECT_EQ(pieces(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true})", "a b"),
            (V{"a", "▁b"}));
  EXPECT_EQ(pieces(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":false})", "a b"),
            (V{"▁a▁b"}));
  // "first": only a piece starting at original offset 0 gets the prefix.
  EXPECT_EQ(pieces(R"({"type":"Sequence","pretokenizers":[{"type":"Punctuation"},)"
                   R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}]})",
                   "a,b"),
            (V{"▁a", ",", "b"}));
}

TEST(TokenizerNormalizers, OffsetsSurviveNormalization) {
  auto n = normalizer_from_json(json::parse(R"({"type":"Sequence","normalizers":[{"type":"NFD"},)"
                                            R"({"type":"StripAccents"},{"type":"Lowercase"}]})"),
                                here());
  NormalizedString s("Éa");
  n->normalize(s);
  EXPECT_EQ(s.get(), "ea");
  // "e" comes from the 2 bytes of "É"; "a" from byte 2.
  EXPECT_EQ(s.normalized_to_original({0, 1}), (Range{0, 2}));
  EXPECT_EQ(s.normalized_to_original({1, 2}), (Range{2, 3}));
}

TEST(TokenizerNormalizers, LowercaseIsPerCodePoint) {
  auto n = normalizer_from_json(json::parse(R"({"type":"Lowercase"})"), here());
  NormalizedString s("ΟΔΟΣ İ");
  n->normalize(s);
  EXPECT_EQ(s.get(), "οδοσ i\u0307");  // no final-sigma rule; İ -> i + combining dot
}

TEST(TokenizerNormalizers, StripReplacePrependBert) {
  auto strip = normalizer_from_json(json::parse(R"({"type":"Strip","strip_left":true,"strip_right":false})"), here());
  NormalizedString a("  x ");
  strip->normalize(a);
  EXPECT_EQ(a.get(), "x ");
  auto rep = normalizer_from_json(json::parse(R"({"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "})"), here());
  NormalizedString b("a \t\nb");
  rep->normalize(b);
  EXPECT_EQ(b.get(), "a b");
  auto pre = normalizer_from_json(json::parse(R"({"type":"Prepend","prepend":"▁"})"), here());
  NormalizedString c("x");
  pre->normalize(c);
  EXPECT_EQ(c.get(), "▁x");
  NormalizedString empty("");
  pre->normalize(empty);
  EXPECT_EQ(empty.get(), "");
  auto bert = normalizer_from_json(json::parse(R"({"type":"BertNormalizer","clean_text":true,)"
                                               R"("handle_chinese_chars":true,"strip_accents":null,"lowercase":true})"),
                                   here());
  NormalizedString d("Héllo\x01中");
  bert->normalize(d);
  EXPECT_EQ(d.get(), "hello 中 ");
}

TEST(TokenizerRegex, OnigurumaEscapesAreRewritten) {
  // \s is Unicode White_Space (U+0085 yes, U+180E no) and \w includes marks.
  Regex ws("\\s+", false);
  EXPECT_EQ(ws.find_all("a\u0085b").size(), 1u);
  EXPECT_EQ(ws.find_all("a\u180Eb").size(), 0u);
  Regex word("\\w+", false);
  auto m = word.find_all("e\u0301x y");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], (Range{0, 4}));
  EXPECT_EQ(onig_to_pcre2("[^\\s\\p{L}]"), "[^\\t\\n\\x0B\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"
                                           "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\p{L}]");
}

TEST(TokenizerDecoders, Chains) {
  auto dec = [](const std::string& spec, std::vector<std::string> toks) {
    return decoder_from_json(json::parse(spec), here())->decode(std::move(toks));
  };
  EXPECT_EQ(dec(R"({"type":"ByteFallback"})", {"<0xE2>", "<0x82>", "<0xAC>", "a", "<0xFF>"}), "€a\uFFFD");
  EXPECT_EQ(dec(R"({"type":"CTC","pad_token":"<pad>","word_delimiter_token":"|","cleanup":true})",
                {"h", "e", "l", "l", "<pad>", "l", "o", "|", "w"}),
            "hello w");
  EXPECT_EQ(dec(R"({"type":"BPEDecoder","suffix":"</w>"})", {"hel", "lo</w>", "you</w>"}), "hello you");
  EXPECT_EQ(dec(R"({"type":"WordPiece","prefix":"##","cleanup":true})", {"hel", "##lo", ",", "you"}), "hello, you");
  EXPECT_EQ(dec(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always"})", {"▁▁a", "▁b"}), "a b");
  EXPECT_EQ(dec(R"({"type":"Strip","content":" ","start":1,"stop":0})", {"  a"}), " a");
  EXPECT_EQ(dec(R"({"type":"ByteLevel"})", {"Hello", "\u0120world"}), "Hello world");
}

TEST(TokenizerPreTokenizers, UnicodeScriptsSplitsOnScriptChanges) {
  // Kana count as Han, U+3002 is Common, spaces join the preceding piece.
  EXPECT_EQ(pieces(R"({"type":"UnicodeScripts"})", "どこで生れ。Yes"), (V{"どこで生れ", "。", "Yes"}));
  EXPECT_EQ(pieces(R"({"type":"UnicodeScripts"})", "Apples are りんご 林檎"), (V{"Apples are ", "りんご 林檎"}));
}

TEST(TokenizerPreTokenizers, FixedLengthChunksCodePoints) {
  EXPECT_EQ(pieces(R"({"type":"FixedLength","length":2})", "abcdé"), (V{"ab", "cd", "é"}));
}
