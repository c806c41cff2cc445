#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizers/unicode_scripts.h"

#include <pcre2.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "tokenizers/unicode.h"

namespace ia::tok {
namespace {

// The scripts of the Rust library's table (Unicode 9), in its order.
const char* const kScripts[] = {
    "Adlam", "Ahom", "Anatolian_Hieroglyphs", "Arabic", "Armenian", "Avestan", "Balinese", "Bamum", "Bassa_Vah",
    "Batak", "Bengali", "Bhaiksuki", "Bopomofo", "Brahmi", "Braille", "Buginese", "Buhid", "Canadian_Aboriginal",
    "Carian", "Caucasian_Albanian", "Chakma", "Cham", "Cherokee", "Common", "Coptic", "Cuneiform", "Cypriot",
    "Cyrillic", "Deseret", "Devanagari", "Duployan", "Egyptian_Hieroglyphs", "Elbasan", "Ethiopic", "Georgian",
    "Glagolitic", "Gothic", "Grantha", "Greek", "Gujarati", "Gurmukhi", "Han", "Hangul", "Hanunoo", "Hatran",
    "Hebrew", "Hiragana", "Imperial_Aramaic", "Inherited", "Inscriptional_Pahlavi", "Inscriptional_Parthian",
    "Javanese", "Kaithi", "Kannada", "Katakana", "Kayah_Li", "Kharoshthi", "Khmer", "Khojki", "Khudawadi", "Lao",
    "Latin", "Lepcha", "Limbu", "Linear_A", "Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani", "Malayalam",
    "Mandaic", "Manichaean", "Marchen", "Meetei_Mayek", "Mende_Kikakui", "Meroitic_Cursive", "Meroitic_Hieroglyphs",
    "Miao", "Modi", "Mongolian", "Mro", "Multani", "Myanmar", "Nabataean", "New_Tai_Lue", "Newa", "Nko", "Ogham",
    "Ol_Chiki", "Old_Hungarian", "Old_Italic", "Old_North_Arabian", "Old_Permic", "Old_Persian",
    "Old_South_Arabian", "Old_Turkic", "Oriya", "Osage", "Osmanya", "Pahawh_Hmong", "Palmyrene", "Pau_Cin_Hau",
    "Phags_Pa", "Phoenician", "Psalter_Pahlavi", "Rejang", "Runic", "Samaritan", "Saurashtra", "Sharada", "Shavian",
    "Siddham", "SignWriting", "Sinhala", "Sora_Sompeng", "Sundanese", "Syloti_Nagri", "Syriac", "Tagalog",
    "Tagbanwa", "Tai_Le", "Tai_Tham", "Tai_Viet", "Takri", "Tamil", "Tangut", "Telugu", "Thaana", "Thai",
    "Tibetan", "Tifinagh", "Tirhuta", "Ugaritic", "Vai", "Warang_Citi", "Yi"};

// One PCRE2 pattern "^(?:(\p{A})|(\p{B})|...)": the matching group is the script.
struct ScriptMatcher {
  pcre2_code* code = nullptr;
  std::vector<int> group_script;  // capture group -> index in kScripts
  int han = 0, hiragana = 0, katakana = 0;
  std::unique_ptr<std::atomic<uint8_t>[]> cache;  // script + 1, 0 = not computed

  ScriptMatcher() : cache(new std::atomic<uint8_t>[0x110000]) {
    for (size_t i = 0; i < 0x110000; ++i) cache[i].store(0, std::memory_order_relaxed);
    std::string pat = "^(?:";
    int n = int(sizeof kScripts / sizeof kScripts[0]);
    bool first = true;
    for (int s = 0; s < n; ++s) {
      std::string one = std::string("\\p{") + kScripts[s] + "}";
      int err;
      PCRE2_SIZE off;
      pcre2_code* test = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(one.data()), one.size(), PCRE2_UTF | PCRE2_UCP,
                                       &err, &off, nullptr);
      if (!test) continue;  // script unknown to this PCRE2: its chars stay "Any"
      pcre2_code_free(test);
      if (!first) pat += "|";
      pat += "(" + one + ")";
      first = false;
      group_script.push_back(s + 1);
      std::string name = kScripts[s];
      if (name == "Han") han = s + 1;
      if (name == "Hiragana") hiragana = s + 1;
      if (name == "Katakana") katakana = s + 1;
    }
    pat += ")";
    int err;
    PCRE2_SIZE off;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat.data()), pat.size(), PCRE2_UTF | PCRE2_UCP, &err, &off,
                         nullptr);
  }

  int raw_script(char32_t c) {
    if (!code || c >= 0x110000) return 0;
    uint8_t v = cache[c].load(std::memory_order_relaxed);
    if (v) return v - 1;
    std::string s;
    uni::append(s, c);
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md, nullptr);
    int script = 0;
    if (rc > 1) script = group_script[size_t(rc - 2)];  // rc-1 = highest group set
    pcre2_match_data_free(md);
    cache[c].store(uint8_t(script + 1), std::memory_order_relaxed);
    return script;
  }
};

ScriptMatcher& matcher() {
  static ScriptMatcher m;
  return m;
}

}  // namespace

int fixed_script(char32_t c) {
  auto& m = matcher();
  if (c == 0x30FC) return m.han;
  if (c == U' ') return 0;
  int s = m.raw_script(c);
  if (s == m.hiragana || s == m.katakana) return m.han;
  return s;
}

}  // namespace ia::tok
