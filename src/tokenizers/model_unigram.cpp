// Unigram (SentencePiece): best segmentation by total piece score (Viterbi over
// the byte lattice), unknown chars fused into one unk piece, optional byte fallback.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <cmath>
#include <unordered_map>

#include "tokenizers/json_util.h"
#include "tokenizers/models.h"
#include "tokenizers/unicode.h"

namespace ia::tok {
namespace {

// Byte trie over the pieces, for common-prefix search.
class PieceTrie {
 public:
  void insert(const std::string& s, uint32_t id) {
    uint32_t node = 0;
    for (unsigned char c : s) {
      uint64_t k = (uint64_t(node) << 8) | c;
      auto it = edges_.find(k);
      if (it == edges_.end()) {
        uint32_t n = uint32_t(values_.size());
        values_.push_back(-1);
        edges_.emplace(k, n);
        node = n;
      } else {
        node = it->second;
      }
    }
    values_[node] = int64_t(id);
  }
  // Calls fn(length, id) for every piece that prefixes text[start..].
  template <typename F>
  void prefixes(const std::string& text, size_t start, F&& fn) const {
    uint32_t node = 0;
    for (size_t i = start; i < text.size(); ++i) {
      auto it = edges_.find((uint64_t(node) << 8) | static_cast<unsigned char>(text[i]));
      if (it == edges_.end()) return;
      node = it->second;
      if (values_[node] >= 0) fn(i + 1 - start, uint32_t(values_[node]));
    }
  }

 private:
  std::unordered_map<uint64_t, uint32_t> edges_;
  std::vector<int64_t> values_{-1};
};

class Unigram : public Model {
 public:
  std::vector<std::pair<std::string, double>> pieces;
  std::unordered_map<std::string, uint32_t> ids;
  std::optional<uint32_t> unk_id;
  bool byte_fallback = false;
  double min_score = 0;
  PieceTrie trie;

  std::vector<std::string> encode(const std::string& s) const {
    if (s.empty()) return {};
    struct Best {
      uint32_t id = 0;
      double score = 0;
      long starts_at = -1;
    };
    const double unk_score = min_score - 10.0;
    std::vector<Best> best(s.size() + 1);
    size_t pos = 0;
    while (pos < s.size()) {
      double here = best[pos].score;
      size_t mblen = size_t(uni::lead_len(static_cast<unsigned char>(s[pos])));
      bool single = false;
      trie.prefixes(s, pos, [&](size_t len, uint32_t id) {
        Best& t = best[pos + len];
        double cand = pieces[id].second + here;
        if (t.starts_at < 0 || cand > t.score) {
          t.score = cand;
          t.starts_at = long(pos);
          t.id = id;
        }
        if (len == mblen) single = true;
      });
      if (!single) {
        IA_CHECK(unk_id.has_value(), "Unigram: text needs the unk piece but the model has no unk_id");
        Best& t = best[pos + mblen];
        double cand = unk_score + here;
        if (t.starts_at < 0 || cand > t.score) {
          t.score = cand;
          t.starts_at = long(pos);
          t.id = *unk_id;
        }
      }
      pos += mblen;
    }
    std::vector<std::string> out;
    std::string unk_run;  // reversed pieces of a run of unknowns, fused
    std::vector<std::string> run;
    size_t end = s.size();
    while (end > 0) {
      const Best& n = best[end];
      size_t start = size_t(n.starts_at);
      if (unk_id && n.id == *unk_id) {
        run.push_back(s.substr(start, end - start));
      } else {
        if (!run.empty()) {
          std::string joined;
          for (auto it = run.rbegin(); it != run.rend(); ++it) joined += *it;
          out.push_back(std::move(joined));
          run.clear();
        }
        out.push_back(s.substr(start, end - start));
      }
      end = start;
    }
    if (!run.empty()) {
      std::string joined;
      for (auto it = run.rbegin(); it != run.rend(); ++it) joined += *it;
      out.push_back(std::move(joined));
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  std::vector<Token> tokenize(const std::string& s) const override {
    std::vector<Token> out;
    size_t offset = 0;
    for (auto& str : encode(s)) {
      size_t len = str.size();
      Offsets off{offset, offset + len};
      auto it = ids.find(str);
      if (it != ids.end()) {
        out.push_back({it->second, str, off});
        offset += len;
        continue;
      }
      if (byte_fallback) {
        std::vector<Token> bytes;
        bool all = true;
        for (unsigned char c : str) {
          char name[8];
          std::snprintf(name, sizeof name, "<0x%02X>", c);
          auto bi = ids.find(name);
          if (bi == ids.end()) {
            all = false;
            break;
          }
          bytes.push_back({bi->second, name, off});
        }
        if (all) {
          for (auto& t : bytes) out.push_back(std::move(t));
          offset += len;
          continue;
        }
      }
      IA_CHECK(unk_id.has_value(), "Unigram: unknown piece but the model has no unk_id");
      out.push_back({*unk_id, str, off});
      offset += len;
    }
    return out;
  }
  std::optional<uint32_t> token_to_id(const std::string& t) const override {
    auto it = ids.find(t);
    if (it == ids.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> id_to_token(uint32_t id) const override {
    if (id >= pieces.size()) return std::nullopt;
    return pieces[id].first;
  }
  size_t vocab_size() const override { return pieces.size(); }
};

// The score as serde_json (the Rust library's JSON parser) reads it: without its
// float_roundtrip feature it converts the decimal digits to f64 and then divides
// by a power of ten, which can be 1 ULP off the correctly rounded value. Unigram
// ties between equal-scoring segmentations depend on those last bits. The file's
// text is the shortest round-trip form of `exact`, which to_chars reproduces.
double serde_json_float(double exact) {
  if (exact == 0.0 || !std::isfinite(exact)) return exact;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, exact, std::chars_format::scientific);
  std::string text(buf, res.ptr);
  bool negative = text[0] == '-';
  size_t i = negative ? 1 : 0;
  uint64_t sig = 0;
  int exp10 = 0;
  bool after_point = false;
  for (; i < text.size() && text[i] != 'e'; ++i) {
    if (text[i] == '.') {
      after_point = true;
      continue;
    }
    if (sig > (UINT64_MAX - 9) / 10) return exact;  // cannot happen for 17 digits
    sig = sig * 10 + uint64_t(text[i] - '0');
    if (after_point) --exp10;
  }
  if (i < text.size()) exp10 += std::atoi(text.c_str() + i + 1);
  auto pow10 = [](int e) {
    char p[16];
    std::snprintf(p, sizeof p, "1e%d", e);
    return std::strtod(p, nullptr);
  };
  double f = double(sig);
  int e = exp10;
  for (;;) {
    int a = e < 0 ? -e : e;
    if (a <= 308) {
      if (e >= 0) f *= pow10(a);
      else f /= pow10(a);
      break;
    }
    if (f == 0.0) break;
    if (e >= 0) return exact;
    f /= 1e308;
    e += 308;
  }
  return negative ? -f : f;
}

}  // namespace

std::unique_ptr<Model> unigram_from_json(const json& j, const JPath& p) {
  auto m = std::make_unique<Unigram>();
  const json& vocab = jreq(j, "vocab", p);
  if (!vocab.is_array()) json_fail(p / "vocab", "expected an array of [piece, score]");
  m->pieces.reserve(vocab.size());
  double min_score = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < vocab.size(); ++i) {
    const json& e = vocab[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      json_fail((p / "vocab")[i], "expected [piece, score]");
    std::string piece = e[0].get<std::string>();
    double score = serde_json_float(e[1].get<double>());
    m->pieces.push_back({piece, score});
    m->ids[piece] = uint32_t(i);
    if (!piece.empty()) m->trie.insert(piece, uint32_t(i));
    min_score = std::min(min_score, score);
  }
  m->min_score = min_score;
  if (jhas(j, "unk_id")) {
    int64_t u = jint(j, "unk_id", p);
    if (vocab.empty()) json_fail(p / "vocab", "empty vocabulary");
    if (u < 0 || size_t(u) >= vocab.size()) json_fail(p / "unk_id", "not in the vocabulary");
    m->unk_id = uint32_t(u);
  }
  m->byte_fallback = jbool_or(j, "byte_fallback", false, p);
  return m;
}

}  // namespace ia::tok
