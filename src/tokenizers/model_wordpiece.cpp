// WordPiece: greedy longest-match-first with a continuing-subword prefix; a word
// that cannot be covered (or is too long) becomes the unk token.
#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "tokenizers/json_util.h"
#include "tokenizers/models.h"
#include "tokenizers/unicode.h"

namespace ia::tok {
namespace {

struct StrHash {
  using is_transparent = void;
  // Deliberately not noexcept: libstdc++ then caches each key's hash in its node, so
  // bucket walks compare cached hashes instead of re-hashing every stored string.
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class WordPiece : public Model {
 public:
  std::unordered_map<std::string, uint32_t, StrHash, std::equal_to<>> vocab;
  std::unordered_map<uint32_t, std::string> vocab_r;
  std::string unk_token = "[UNK]", prefix = "##";
  size_t max_chars = 100;
  size_t max_key_len = 0;  // longest vocabulary entry, in bytes

  std::vector<Token> unk(const std::string& seq) const {
    auto it = vocab.find(std::string_view(unk_token));
    IA_CHECK(it != vocab.end(), "WordPiece: unk_token '", unk_token, "' is not in the vocabulary");
    return {Token{it->second, unk_token, {0, seq.size()}}};
  }

  std::vector<Token> tokenize(const std::string& seq) const override {
    if (uni::char_count(seq) > max_chars) return unk(seq);
    std::vector<Token> out;
    size_t start = 0;
    std::string buf;  // prefix + rest of the word; candidates are its prefixes
    while (start < seq.size()) {
      // Candidates longer than the longest vocabulary entry cannot match, so the
      // search starts there (same result as starting at the end, far cheaper).
      size_t room = max_key_len - (start > 0 ? std::min(max_key_len, prefix.size()) : 0);
      size_t end = std::min(seq.size(), start + room);
      while (end > start && end < seq.size() && (static_cast<unsigned char>(seq[end]) & 0xC0) == 0x80) --end;
      size_t pre = start > 0 ? prefix.size() : 0;
      buf.assign(start > 0 ? prefix : std::string());
      buf.append(seq, start, end - start);
      bool found = false;
      while (start < end) {
        std::string_view sub(buf.data(), pre + (end - start));
        auto it = vocab.find(sub);
        if (it != vocab.end()) {
          out.push_back({it->second, std::string(sub), {start, end}});
          found = true;
          break;
        }
        // Step back one char.
        size_t e = end - 1;
        while (e > start && (static_cast<unsigned char>(seq[e]) & 0xC0) == 0x80) --e;
        end = e;
      }
      if (!found) return unk(seq);
      start = end;
    }
    return out;
  }
  std::optional<uint32_t> token_to_id(const std::string& t) const override {
    auto it = vocab.find(std::string_view(t));
    if (it == vocab.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> id_to_token(uint32_t id) const override {
    auto it = vocab_r.find(id);
    if (it == vocab_r.end()) return std::nullopt;
    return it->second;
  }
  size_t vocab_size() const override { return vocab.size(); }
};

class WordLevel : public Model {
 public:
  std::unordered_map<std::string, uint32_t> vocab;
  std::unordered_map<uint32_t, std::string> vocab_r;
  std::string unk_token = "<unk>";

  std::vector<Token> tokenize(const std::string& seq) const override {
    auto it = vocab.find(seq);
    if (it != vocab.end()) return {Token{it->second, seq, {0, seq.size()}}};
    auto u = vocab.find(unk_token);
    IA_CHECK(u != vocab.end(), "WordLevel: unk_token '", unk_token, "' is not in the vocabulary");
    return {Token{u->second, unk_token, {0, seq.size()}}};
  }
  std::optional<uint32_t> token_to_id(const std::string& t) const override {
    auto it = vocab.find(t);
    if (it == vocab.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> id_to_token(uint32_t id) const override {
    auto it = vocab_r.find(id);
    if (it == vocab_r.end()) return std::nullopt;
    return it->second;
  }
  size_t vocab_size() const override { return vocab.size(); }
};

template <typename M>
void read_vocab(M& m, const json& j, const JPath& p) {
  const json& vocab = jreq(j, "vocab", p);
  if (!vocab.is_object()) json_fail(p / "vocab", "expected an object of token -> id");
  m.vocab.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    uint32_t id = jid(it.value(), p / "vocab" / it.key());
    m.vocab[it.key()] = id;
    m.vocab_r[id] = it.key();
  }
}

}  // namespace

std::unique_ptr<Model> wordpiece_from_json(const json& j, const JPath& p) {
  auto m = std::make_unique<WordPiece>();
  read_vocab(*m, j, p);
  for (const auto& [k, v] : m->vocab) m->max_key_len = std::max(m->max_key_len, k.size());
  m->unk_token = jstr_or(j, "unk_token", "[UNK]", p);
  m->prefix = jstr_or(j, "continuing_subword_prefix", "##", p);
  int64_t mc = jint_or(j, "max_input_chars_per_word", 100, p);
  if (mc < 0) json_fail(p / "max_input_chars_per_word", "must not be negative");
  m->max_chars = size_t(mc);
  return m;
}

std::unique_ptr<Model> wordlevel_from_json(const json& j, const JPath& p) {
  auto m = std::make_unique<WordLevel>();
  read_vocab(*m, j, p);
  m->unk_token = jstr_or(j, "unk_token", "<unk>", p);
  return m;
}

}  // namespace ia::tok
