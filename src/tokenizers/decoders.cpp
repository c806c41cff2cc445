#include "tokenizers/decoders.h"

#include "tokenizers/byte_level_alphabet.h"
#include "tokenizers/json_util.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace ia::tok {

std::string Decoder::decode(std::vector<std::string> tokens) const {
  std::string out;
  for (auto& t : decode_chain(std::move(tokens))) out += t;
  return out;
}

static void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::string out;
  size_t pos = 0, hit;
  while ((hit = s.find(from, pos)) != std::string::npos) {
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

std::string wordpiece_cleanup(const std::string& in) {
  std::string s = in;
  static const std::pair<const char*, const char*> rules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (auto& [a, b] : rules) replace_all(s, a, b);
  return s;
}

namespace {

struct ByteLevelDec : Decoder {
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (auto& t : tokens) {
      std::string tb;
      bool ok = true;
      for (size_t i = 0; i < t.size();) {
        int b = char_to_byte(uni::next(t, i));
        if (b < 0) {
          ok = false;
          break;
        }
        tb += char(b);
      }
      bytes += ok ? tb : t;
    }
    return {uni::sanitize_utf8(bytes)};
  }
};

struct WordPieceDec : Decoder {
  std::string prefix = "##";
  bool cleanup = true;
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      auto& t = tokens[i];
      if (i != 0) {
        if (t.compare(0, prefix.size(), prefix) == 0) t = t.substr(prefix.size());
        else t = " " + t;
      }
      if (cleanup) t = wordpiece_cleanup(t);
    }
    return tokens;
  }
};

struct MetaspaceDec : Decoder {
  char32_t replacement = 0x2581;
  bool never = false;
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (size_t k = 0; k < t.size();) {
        char32_t c = uni::next(t, k);
        if (c == replacement) {
          if (!(i == 0 && !never)) out += ' ';
        } else {
          uni::append(out, c);
        }
      }
      tokens[i] = std::move(out);
    }
    return tokens;
  }
};

struct BPEDec : Decoder {
  std::string suffix = "</w>";
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) replace_all(tokens[i], suffix, i + 1 == tokens.size() ? "" : " ");
    return tokens;
  }
};

struct ReplaceDec : Decoder {
  std::unique_ptr<Regex> re;
  std::string content;
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      std::string out;
      for (auto& m : re->find_matches(t)) {
        if (m.is_match) out += content;
        else out.append(t, m.start, m.end - m.start);
      }
      t = std::move(out);
    }
    return tokens;
  }
};

struct ByteFallbackDec : Decoder {
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    auto flush = [&]() {
      if (pending.empty()) return;
      if (uni::is_valid_utf8(pending)) out.push_back(pending);
      else
        for (size_t k = 0; k < pending.size(); ++k) out.push_back("\xEF\xBF\xBD");
      pending.clear();
    };
    for (auto& t : tokens) {
      int byte = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        auto hex = [](char c) -> int {
          if (c >= '0' && c <= '9') return c - '0';
          if (c >= 'a' && c <= 'f') return c - 'a' + 10;
          if (c >= 'A' && c <= 'F') return c - 'A' + 10;
          return -1;
        };
        int h = hex(t[3]), l = hex(t[4]);
        if (h >= 0 && l >= 0) byte = h * 16 + l;
      }
      if (byte >= 0) {
        pending += char(byte);
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    return out;
  }
};

struct FuseDec : Decoder {
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string all;
    for (auto& t : tokens) all += t;
    return {all};
  }
};

struct StripDec : Decoder {
  char32_t content = ' ';
  size_t start = 0, stop = 0;
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      std::u32string cs = uni::to_u32(t);
      size_t start_cut = 0;
      for (size_t i = 0; i < start && i < cs.size(); ++i) {
        if (cs[i] == content) start_cut = i + 1;
        else break;
      }
      size_t stop_cut = cs.size();
      for (size_t i = 0; i < stop && i < cs.size(); ++i) {
        size_t idx = cs.size() - i - 1;
        if (cs[idx] == content) stop_cut = idx;
        else break;
      }
      if (stop_cut < start_cut) stop_cut = start_cut;
      t = uni::to_utf8(cs.substr(start_cut, stop_cut - start_cut));
    }
    return tokens;
  }
};

struct CTCDec : Decoder {
  std::string pad = "<pad>", delim = "|";
  bool cleanup = true;
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 && tokens[i] == tokens[i - 1]) continue;
      std::string t = tokens[i];
      replace_all(t, pad, "");
      if (cleanup) {
        t = wordpiece_cleanup(t);
        replace_all(t, delim, " ");
      }
      if (!t.empty()) out.push_back(std::move(t));
    }
    return out;
  }
};

struct SequenceDec : Decoder {
  std::vector<std::unique_ptr<Decoder>> items;
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& d : items) tokens = d->decode_chain(std::move(tokens));
    return tokens;
  }
};

}  // namespace

std::unique_ptr<Decoder> decoder_from_json(const json& j, const JPath& p) {
  if (j.is_null()) return nullptr;
  std::string type = jstr(j, "type", p);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDec>();
  if (type == "WordPiece") {
    auto d = std::make_unique<WordPieceDec>();
    d->prefix = jstr_or(j, "prefix", "##", p);
    d->cleanup = jbool_or(j, "cleanup", true, p);
    return d;
  }
  if (type == "Metaspace") {
    auto d = std::make_unique<MetaspaceDec>();
    d->replacement = jchar(j, "replacement", p);
    std::string scheme = jstr_or(j, "prepend_scheme", "always", p);
    if (scheme != "always" && scheme != "first" && scheme != "never")
      json_fail(p / "prepend_scheme", "expected always, first or never, got '" + scheme + "'");
    d->never = scheme == "never";
    if (jhas(j, "add_prefix_space") && !jbool_or(j, "add_prefix_space", true, p)) d->never = true;
    return d;
  }
  if (type == "BPEDecoder") {
    auto d = std::make_unique<BPEDec>();
    d->suffix = jstr_or(j, "suffix", "</w>", p);
    return d;
  }
  if (type == "Replace") {
    auto d = std::make_unique<ReplaceDec>();
    auto [pat, is_regex] = jpattern(j, "pattern", p);
    d->re = std::make_unique<Regex>(pat, !is_regex);
    d->content = jstr(j, "content", p);
    return d;
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDec>();
  if (type == "Fuse") return std::make_unique<FuseDec>();
  if (type == "Strip") {
    auto d = std::make_unique<StripDec>();
    d->content = jchar(j, "content", p);
    int64_t s = jint_or(j, "start", 0, p), e = jint_or(j, "stop", 0, p);
    if (s < 0 || e < 0) json_fail(p, "Strip start/stop must not be negative");
    d->start = size_t(s);
    d->stop = size_t(e);
    return d;
  }
  if (type == "CTC") {
    auto d = std::make_unique<CTCDec>();
    d->pad = jstr_or(j, "pad_token", "<pad>", p);
    d->delim = jstr_or(j, "word_delimiter_token", "|", p);
    d->cleanup = jbool_or(j, "cleanup", true, p);
    return d;
  }
  if (type == "Sequence") {
    auto s = std::make_unique<SequenceDec>();
    const json& arr = jreq(j, "decoders", p);
    if (!arr.is_array()) json_fail(p / "decoders", "expected an array");
    for (size_t i = 0; i < arr.size(); ++i) {
      auto x = decoder_from_json(arr[i], (p / "decoders")[i]);
      if (x) s->items.push_back(std::move(x));
    }
    return s;
  }
  json_fail(p / "type", "unknown decoder type '" + type + "'");
}

}  // namespace ia::tok
