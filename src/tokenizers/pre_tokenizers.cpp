#include "tokenizers/pre_tokenizers.h"

#include "tokenizers/byte_level_alphabet.h"
#include "tokenizers/json_util.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode_scripts.h"

namespace ia::tok {
namespace {

const Regex& gpt2_regex() {
  static const Regex re(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)", false);
  return re;
}

// UTF-8 of the byte-level stand-in char of every byte.
struct ByteLevelTable {
  std::string utf8[256];
  ByteLevelTable() {
    for (int b = 0; b < 256; ++b) uni::append(utf8[b], byte_to_char(uint8_t(b)));
  }
};
const std::string (&byte_level_table())[256] {
  static const ByteLevelTable table;
  return table.utf8;
}

bool is_bert_punc(char32_t c) { return uni::is_ascii_punctuation(c) || uni::is_punctuation(c); }

struct ByteLevel : PreTokenizer {
  bool add_prefix_space = true, use_regex = true;
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_plain([this](size_t, NormalizedString&& n) {
      if (add_prefix_space && (n.get().empty() || n.get()[0] != ' ')) n.prepend(" ");
      if (use_regex) return n.split([](const std::string& s) { return gpt2_regex().find_matches(s); },
                                    SplitBehavior::Isolated);
      return std::vector<NormalizedString>{std::move(n)};
    });
    p.normalize([](NormalizedString& n) { n.map_bytes(byte_level_table()); });
  }
};

// Rust-regex `\w+|[^\w\s]+` matches: runs of word chars, runs of other non-space chars.
std::vector<PatternPiece> whitespace_matches(const std::string& s) {
  if (s.empty()) return {{0, 0, false}};
  std::vector<PatternPiece> out;
  size_t prev = 0, i = 0;
  int run = 0;  // 0 none, 1 word, 2 other
  size_t run_start = 0;
  auto close = [&](size_t at) {
    if (run == 0) return;
    if (prev != run_start) out.push_back({prev, run_start, false});
    out.push_back({run_start, at, true});
    prev = at;
    run = 0;
  };
  while (i < s.size()) {
    size_t b = i;
    char32_t c = uni::next(s, i);
    int kind = uni::is_word_char(c) ? 1 : uni::is_whitespace(c) ? 0 : 2;
    if (kind != run) {
      close(b);
      if (kind != 0) {
        run = kind;
        run_start = b;
      }
    }
  }
  close(s.size());
  if (prev != s.size()) out.push_back({prev, s.size(), false});
  return out;
}

struct Whitespace : PreTokenizer {
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_plain([](size_t, NormalizedString&& n) {
      return n.split([](const std::string& s) { return invert_matches(whitespace_matches(s)); },
                     SplitBehavior::Removed);
    });
  }
};

// Splits on every char matching `pred` with the given behavior.
struct CharSplit : PreTokenizer {
  std::function<bool(char32_t)> pred;
  SplitBehavior behavior;
  CharSplit(std::function<bool(char32_t)> p, SplitBehavior b) : pred(std::move(p)), behavior(b) {}
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_plain([this](size_t, NormalizedString&& n) {
      return n.split([this](const std::string& s) { return find_char_matches(s, pred); }, behavior);
    });
  }
};

struct BertPre : PreTokenizer {
  void pre_tokenize(PreTokenizedString& p) const override {
    CharSplit(uni::is_whitespace, SplitBehavior::Removed).pre_tokenize(p);
    CharSplit(is_bert_punc, SplitBehavior::Isolated).pre_tokenize(p);
  }
};

enum class PrependScheme { First, Never, Always };

struct Metaspace : PreTokenizer {
  char32_t replacement = 0x2581;
  std::string rep;
  PrependScheme scheme = PrependScheme::Always;
  bool split = true;
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_plain([this](size_t, NormalizedString&& n) {
      n.replace([](const std::string& s) { return find_char_matches(s, [](char32_t c) { return c == U' '; }); }, rep);
      bool starts = n.get().compare(0, rep.size(), rep) == 0;
      if (scheme == PrependScheme::Always && !starts) n.prepend(rep);
      if (scheme == PrependScheme::First && !starts && n.offsets_original().first == 0) n.prepend(rep);
      if (split) {
        char32_t r = replacement;
        return n.split([r](const std::string& s) { return find_char_matches(s, [r](char32_t c) { return c == r; }); },
                       SplitBehavior::MergedWithNext);
      }
      return std::vector<NormalizedString>{std::move(n)};
    });
  }
};

struct SplitPre : PreTokenizer {
  std::unique_ptr<Regex> re;
  SplitBehavior behavior;
  bool invert;
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_plain([this](size_t, NormalizedString&& n) {
      return n.split(
          [this](const std::string& s) {
            auto m = re->find_matches(s);
            return invert ? invert_matches(std::move(m)) : m;
          },
          behavior);
    });
  }
};

struct FixedLength : PreTokenizer {
  size_t length = 5;
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_plain([this](size_t, NormalizedString&& n) {
      std::vector<NormalizedString> out;
      const std::string& s = n.get();
      size_t i = 0;
      while (i < s.size()) {
        size_t b = i;
        for (size_t k = 0; k < length && i < s.size(); ++k) uni::next(s, i);
        if (auto sl = n.slice_normalized({b, i})) out.push_back(std::move(*sl));
      }
      return out;
    });
  }
};

// Splits where the Unicode script changes (spaces belong to either side).
struct UnicodeScripts : PreTokenizer {
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_plain([](size_t, NormalizedString&& n) {
      const std::string& s = n.get();
      std::vector<size_t> cuts;
      int last = -1;  // -1: none yet
      for (size_t i = 0; i < s.size();) {
        size_t b = i;
        int script = fixed_script(uni::next(s, i));
        if (script != 0 && last != 0 && last != script) cuts.push_back(b);
        if (script != 0) last = script;
      }
      cuts.push_back(s.size());
      std::vector<NormalizedString> out;
      for (size_t k = 0; k + 1 < cuts.size(); ++k)
        if (auto sl = n.slice_normalized({cuts[k], cuts[k + 1]})) out.push_back(std::move(*sl));
      return out;
    });
  }
};

struct SequencePre : PreTokenizer {
  std::vector<std::unique_ptr<PreTokenizer>> items;
  void pre_tokenize(PreTokenizedString& p) const override {
    for (auto& x : items) x->pre_tokenize(p);
  }
};

SplitBehavior behavior_field(const json& j, const char* key, SplitBehavior dflt, const JPath& p) {
  if (!jhas(j, key)) return dflt;
  try {
    return split_behavior_from_name(jstr(j, key, p));
  } catch (const Error& e) {
    json_fail(p / key, e.what());
  }
}

}  // namespace

std::vector<PatternPiece> byte_level_regex_matches(const std::string& s) { return gpt2_regex().find_matches(s); }

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const json& j, const JPath& p) {
  if (j.is_null()) return nullptr;
  std::string type = jstr(j, "type", p);
  if (type == "ByteLevel") {
    auto b = std::make_unique<ByteLevel>();
    b->add_prefix_space = jbool_or(j, "add_prefix_space", true, p);
    b->use_regex = jbool_or(j, "use_regex", true, p);
    return b;
  }
  if (type == "Whitespace") return std::make_unique<Whitespace>();
  if (type == "WhitespaceSplit") return std::make_unique<CharSplit>(uni::is_whitespace, SplitBehavior::Removed);
  if (type == "BertPreTokenizer") return std::make_unique<BertPre>();
  if (type == "Punctuation")
    return std::make_unique<CharSplit>(is_bert_punc, behavior_field(j, "behavior", SplitBehavior::Isolated, p));
  if (type == "Digits") {
    bool individual = jbool_or(j, "individual_digits", false, p);
    return std::make_unique<CharSplit>(uni::is_numeric,
                                       individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
  }
  if (type == "CharDelimiterSplit") {
    char32_t d = jchar(j, "delimiter", p);
    return std::make_unique<CharSplit>([d](char32_t c) { return c == d; }, SplitBehavior::Removed);
  }
  if (type == "Metaspace") {
    auto m = std::make_unique<Metaspace>();
    m->replacement = jchar(j, "replacement", p);
    m->rep.clear();
    uni::append(m->rep, m->replacement);
    std::string scheme = jstr_or(j, "prepend_scheme", "always", p);
    if (scheme == "always") m->scheme = PrependScheme::Always;
    else if (scheme == "first") m->scheme = PrependScheme::First;
    else if (scheme == "never") m->scheme = PrependScheme::Never;
    else json_fail(p / "prepend_scheme", "expected always, first or never, got '" + scheme + "'");
    if (jhas(j, "add_prefix_space") && !jbool_or(j, "add_prefix_space", true, p)) {
      if (jhas(j, "prepend_scheme") && m->scheme != PrependScheme::Never)
        json_fail(p / "add_prefix_space", "add_prefix_space does not match declared prepend_scheme");
      m->scheme = PrependScheme::Never;
    }
    m->split = jbool_or(j, "split", true, p);
    return m;
  }
  if (type == "Split") {
    auto s = std::make_unique<SplitPre>();
    auto [pat, is_regex] = jpattern(j, "pattern", p);
    try {
      s->re = std::make_unique<Regex>(pat, !is_regex);
    } catch (const Error& e) {
      json_fail(p / "pattern", e.what());
    }
    s->behavior = behavior_field(j, "behavior", SplitBehavior::Isolated, p);
    if (!jhas(j, "behavior")) json_fail(p / "behavior", "missing field");
    s->invert = jbool_or(j, "invert", false, p);
    return s;
  }
  if (type == "FixedLength") {
    auto f = std::make_unique<FixedLength>();
    int64_t len = jint_or(j, "length", 5, p);
    if (len <= 0) json_fail(p / "length", "must be positive");
    f->length = size_t(len);
    return f;
  }
  if (type == "Sequence") {
    auto s = std::make_unique<SequencePre>();
    const json& arr = jreq(j, "pretokenizers", p);
    if (!arr.is_array()) json_fail(p / "pretokenizers", "expected an array");
    for (size_t i = 0; i < arr.size(); ++i) {
      auto x = pre_tokenizer_from_json(arr[i], (p / "pretokenizers")[i]);
      if (x) s->items.push_back(std::move(x));
    }
    return s;
  }
  if (type == "UnicodeScripts") return std::make_unique<UnicodeScripts>();
  json_fail(p / "type", "unknown pre-tokenizer type '" + type + "'");
}

}  // namespace ia::tok
