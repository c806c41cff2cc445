// Byte-Pair Encoding: characters merged pairwise by merge rank (lowest first,
// leftmost on ties), with byte fallback, unk fusing, subword prefix / word suffix.
#include <array>
#include <cstdio>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

#include "tokenizers/json_util.h"
#include "tokenizers/models.h"
#include "tokenizers/unicode.h"

namespace ia::tok {
namespace {

// Hash map keyed by std::string that can be searched with a string_view.
struct StrHash {
  using is_transparent = void;
  // Deliberately not noexcept: libstdc++ then caches each key's hash in its node, so
  // bucket walks compare cached hashes instead of re-hashing every stored string.
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, uint32_t, StrHash, std::equal_to<>>;

// Open-addressing hash map (a, b) -> (rank, merged id). Merges are looked up for
// every adjacent pair of every word; std::unordered_map's bucket + node chasing
// was the largest cost of encoding (two cache misses per lookup instead of one).
class MergeMap {
 public:
  struct Slot {
    uint64_t key;
    uint32_t rank, id;
  };
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2 + 2) cap <<= 1;
    slots_.assign(cap, Slot{kEmpty, 0, 0});
    mask_ = cap - 1;
    size_ = 0;
  }
  // Later entries for the same pair win, as with map[key] = value.
  void insert_or_assign(uint64_t key, uint32_t rank, uint32_t id) {
    if (key == kEmpty) {
      sentinel_ = Slot{key, rank, id};
      return;
    }
    if ((size_ + 1) * 2 > slots_.size()) grow();
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) {
        slots_[i] = Slot{key, rank, id};
        return;
      }
      if (slots_[i].key == kEmpty) {
        slots_[i] = Slot{key, rank, id};
        ++size_;
        return;
      }
    }
  }
  const Slot* find(uint64_t key) const {
    if (key == kEmpty) return sentinel_ ? &*sentinel_ : nullptr;
    if (slots_.empty()) return nullptr;
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s;
      if (s.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  static size_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return size_t(k);
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    reserve(old.size());
    for (const Slot& s : old)
      if (s.key != kEmpty) insert_or_assign(s.key, s.rank, s.id);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
  std::optional<Slot> sentinel_;
};

struct Symbol {
  uint32_t c;
  long prev, next;
  size_t len;
};

class BPE : public Model {
 public:
  Vocab vocab;
  std::unordered_map<uint32_t, std::string> vocab_r;
  MergeMap merges;  // (a,b) -> (rank, new id)
  std::optional<std::string> unk_token, prefix, suffix;
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  bool no_merges = false;  // dropout 1.0: every merge is dropped
  std::array<std::optional<uint32_t>, 256> byte_ids{};  // ids of <0xNN> pieces

  static uint64_t key(uint32_t a, uint32_t b) { return (uint64_t(a) << 32) | b; }

  std::vector<Token> tokenize(const std::string& seq) const override {
    if (seq.empty()) return {};
    // With dropout the Rust library bypasses the cache and ignore_merges.
    if (no_merges) return merge_word(seq);
    if (ignore_merges) {
      auto it = vocab.find(seq);
      if (it != vocab.end()) return {Token{it->second, seq, {0, seq.size()}}};
    }
    {
      std::shared_lock lk(cache_mu_);
      auto it = cache_.find(seq);
      if (it != cache_.end()) return it->second;
    }
    auto out = merge_word(seq);
    if (seq.size() < 256) {
      std::unique_lock lk(cache_mu_);
      if (cache_.size() < 100000) cache_.emplace(seq, out);
    }
    return out;
  }

  std::vector<Token> merge_word(const std::string& w) const {
    std::vector<Symbol> syms;
    syms.reserve(w.size());
    auto add = [&](uint32_t id, size_t len) {
      long n = long(syms.size());
      if (n > 0) syms.back().next = n;
      syms.push_back({id, n - 1, -1, len});
    };
    std::optional<std::pair<uint32_t, size_t>> unk;
    std::string s;
    for (size_t i = 0; i < w.size();) {
      size_t b = i;
      uni::next(w, i);
      bool is_first = b == 0, is_last = i == w.size();
      size_t byte_len = i - b;
      bool decorate = (!is_first && prefix && !prefix->empty()) || (is_last && suffix && !suffix->empty());
      std::string_view sv(w.data() + b, byte_len);
      if (decorate) {
        s.clear();
        if (!is_first && prefix) s += *prefix;
        s.append(sv);
        if (is_last && suffix) s += *suffix;
        sv = s;
      }
      auto it = vocab.find(sv);
      if (it != vocab.end()) {
        if (unk) {
          add(unk->first, unk->second);
          unk.reset();
        }
        add(it->second, byte_len);
        continue;
      }
      if (byte_fallback) {
        bool all = true;
        for (unsigned char c : sv) all &= byte_ids[c].has_value();
        if (all) {
          // Rust pushes the byte tokens without flushing a pending unk first.
          for (unsigned char c : sv) add(*byte_ids[c], 1);
          continue;
        }
      }
      if (unk_token) {
        auto uit = vocab.find(*unk_token);
        IA_CHECK(uit != vocab.end(), "BPE: unk_token '", *unk_token, "' is not in the vocabulary");
        if (unk && fuse_unk) {
          unk->second += byte_len;
        } else {
          if (unk) add(unk->first, unk->second);
          unk = std::make_pair(uit->second, byte_len);
        }
      }
    }
    if (unk) add(unk->first, unk->second);
    if (!no_merges) merge_all(syms);
    std::vector<Token> out;
    out.reserve(syms.size());
    size_t pos = 0;
    for (auto& sy : syms) {
      if (sy.len == 0) continue;
      auto it = vocab_r.find(sy.c);
      out.push_back({sy.c, it != vocab_r.end() ? it->second : std::string(), {pos, pos + sy.len}});
      pos += sy.len;
    }
    return out;
  }

  void merge_all(std::vector<Symbol>& syms) const {
    struct M {
      size_t pos;
      uint32_t rank, new_id;
      bool operator<(const M& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<M> q;
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      if (auto* m = merges.find(key(syms[i].c, syms[i + 1].c))) q.push({i, m->rank, m->id});
    }
    while (!q.empty()) {
      M top = q.top();
      q.pop();
      Symbol& cur = syms[top.pos];
      if (cur.len == 0 || cur.next == -1) continue;
      size_t next_pos = size_t(cur.next);
      Symbol right = syms[next_pos];
      auto* m = merges.find(key(cur.c, right.c));
      if (!m || m->id != top.new_id) continue;
      cur.c = top.new_id;
      cur.len += right.len;
      cur.next = right.next;
      syms[next_pos].len = 0;
      if (right.next > -1 && size_t(right.next) < syms.size()) syms[size_t(right.next)].prev = long(top.pos);
      if (cur.prev >= 0) {
        if (auto* pm = merges.find(key(syms[size_t(cur.prev)].c, cur.c))) q.push({size_t(cur.prev), pm->rank, pm->id});
      }
      if (cur.next >= 0 && size_t(cur.next) < syms.size()) {
        if (auto* nm = merges.find(key(cur.c, syms[size_t(cur.next)].c))) q.push({top.pos, nm->rank, nm->id});
      }
    }
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

 private:
  mutable std::shared_mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<Token>> cache_;
};

std::optional<std::string> opt_str(const json& j, const char* key, const JPath& p) {
  if (!jhas(j, key)) return std::nullopt;
  return jstr(j, key, p);
}

}  // namespace

std::unique_ptr<Model> bpe_from_json(const json& j, const JPath& p) {
  auto m = std::make_unique<BPE>();
  const json& vocab = jreq(j, "vocab", p);
  if (!vocab.is_object()) json_fail(p / "vocab", "expected an object of token -> id");
  m->vocab.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    uint32_t id = jid(it.value(), p / "vocab" / it.key());
    m->vocab[it.key()] = id;
    m->vocab_r[id] = it.key();
  }
  m->unk_token = opt_str(j, "unk_token", p);
  m->prefix = opt_str(j, "continuing_subword_prefix", p);
  m->suffix = opt_str(j, "end_of_word_suffix", p);
  m->fuse_unk = jbool_or(j, "fuse_unk", false, p);
  m->byte_fallback = jbool_or(j, "byte_fallback", false, p);
  m->ignore_merges = jbool_or(j, "ignore_merges", false, p);
  if (jhas(j, "dropout")) {
    const json& d = j["dropout"];
    if (!d.is_number()) json_fail(p / "dropout", "expected a number");
    double v = d.get<double>();
    if (v < 0.0 || v > 1.0) json_fail(p / "dropout", "must be between 0 and 1");
    if (v >= 1.0) m->no_merges = true;
    else if (v > 0.0) throw Unsupported(p.str() + ".dropout: BPE dropout (random merges) is not supported");
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = m->vocab.find(name);
    if (it != m->vocab.end()) m->byte_ids[size_t(b)] = it->second;
  }
  const json& merges = jreq(j, "merges", p);
  if (!merges.is_array()) json_fail(p / "merges", "expected an array");
  size_t prefix_len = m->prefix ? m->prefix->size() : 0;
  m->merges.reserve(merges.size());
  uint32_t rank = 0;
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& e = merges[i];
    JPath ep = (p / "merges")[i];
    std::string a, b;
    if (e.is_string()) {
      std::string line = e.get<std::string>();
      if (line.rfind("#version", 0) == 0) continue;
      size_t sp = line.find(' ');
      if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
        json_fail(ep, "expected \"a b\" (two tokens separated by one space)");
      a = line.substr(0, sp);
      b = line.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      json_fail(ep, "expected a merge \"a b\" or [a, b]");
    }
    auto ai = m->vocab.find(a), bi = m->vocab.find(b);
    if (ai == m->vocab.end()) json_fail(ep, "merge token '" + a + "' is not in the vocabulary");
    if (bi == m->vocab.end()) json_fail(ep, "merge token '" + b + "' is not in the vocabulary");
    if (b.size() < prefix_len) json_fail(ep, "merge token '" + b + "' is shorter than continuing_subword_prefix");
    std::string merged = a + b.substr(prefix_len);
    auto ni = m->vocab.find(merged);
    if (ni == m->vocab.end()) json_fail(ep, "merged token '" + merged + "' is not in the vocabulary");
    m->merges.insert_or_assign(BPE::key(ai->second, bi->second), rank, ni->second);
    ++rank;
  }
  return m;
}

}  // namespace ia::tok
