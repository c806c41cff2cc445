#include "tokenizers/added_vocabulary.h"

namespace ia::tok {

void AddedVocabulary::Trie::insert(const std::string& s, uint32_t id) {
  uint32_t node = 0;
  for (unsigned char c : s) {
    auto it = next[node].find(c);
    if (it == next[node].end()) {
      uint32_t n = uint32_t(next.size());
      next[node][c] = n;
      next.emplace_back();
      value.push_back(-1);
      node = n;
    } else {
      node = it->second;
    }
  }
  if (value[node] < 0) value[node] = id;
}

void AddedVocabulary::add_tokens(const std::vector<AddedToken>& tokens, const Model& model,
                                 const Normalizer* normalizer) {
  uint32_t vsize = uint32_t(model.vocab_size());
  uint32_t next_id = vsize;
  if (!by_id_.empty()) {
    uint32_t mx = by_id_.rbegin()->first;
    next_id = (mx >= vsize || vsize == 0) ? mx + 1 : vsize;
  }
  for (const auto& t : tokens) {
    if (t.content.empty()) continue;
    auto existing = by_content_.find(t.content);
    if (existing != by_content_.end()) {
      const AddedToken& o = by_id_[existing->second];
      if (o.content == t.content && o.single_word == t.single_word && o.lstrip == t.lstrip && o.rstrip == t.rstrip &&
          o.normalized == t.normalized && o.special == t.special)
        continue;
    }
    uint32_t id;
    if (auto a = token_to_id(t.content)) id = *a;
    else if (auto m = model.token_to_id(t.content)) id = *m;
    else id = next_id++;
    if (t.normalized && normalizer) {
      NormalizedString ns(t.content);
      normalizer->normalize(ns);
      if (ns.get() != t.content) normalized_cache_[id] = ns.get();
    }
    by_content_[t.content] = id;
    if (t.special) special_.insert(t.content);
    by_id_[id] = t;
  }
  refresh();
}

void AddedVocabulary::refresh() {
  raw_trie_ = Trie();
  norm_trie_ = Trie();
  for (const auto& [id, t] : by_id_) {
    if (t.normalized) {
      auto it = normalized_cache_.find(id);
      norm_trie_.insert(it != normalized_cache_.end() ? it->second : t.content, id);
    } else {
      raw_trie_.insert(t.content, id);
    }
  }
}

std::optional<uint32_t> AddedVocabulary::token_to_id(const std::string& t) const {
  auto it = by_content_.find(t);
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> AddedVocabulary::id_to_token(uint32_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  auto n = normalized_cache_.find(id);
  return n != normalized_cache_.end() ? n->second : it->second.content;
}

namespace {
bool ends_with_word(const std::string& s, size_t end) {
  if (end == 0) return false;
  size_t i = end - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  size_t k = i;
  return uni::is_word_char(uni::next(s, k));
}
bool starts_with_word(const std::string& s, size_t start) {
  if (start >= s.size()) return false;
  size_t k = start;
  return uni::is_word_char(uni::next(s, k));
}
}  // namespace

std::vector<AddedVocabulary::Piece> AddedVocabulary::find_matches(const std::string& s, const Trie& trie) const {
  if (s.empty()) return {{std::nullopt, 0, 0}};
  if (trie.empty()) return {{std::nullopt, 0, s.size()}};
  std::vector<Piece> out;
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    // Leftmost-longest match starting at pos.
    uint32_t node = 0;
    int64_t best_id = -1;
    size_t best_end = 0;
    for (size_t i = pos; i < s.size(); ++i) {
      auto it = trie.next[node].find(static_cast<unsigned char>(s[i]));
      if (it == trie.next[node].end()) break;
      node = it->second;
      if (trie.value[node] >= 0) {
        best_id = trie.value[node];
        best_end = i + 1;
      }
    }
    if (best_id < 0) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = best_end;
    pos = best_end;  // the next search starts after this match, even if it is rejected
    uint32_t id = uint32_t(best_id);
    const AddedToken& tok = by_id_.at(id);
    if (encode_special_tokens && special_.count(tok.content)) continue;
    if (tok.single_word) {
      bool start_space = start == 0 || !ends_with_word(s, start);
      bool stop_space = stop == s.size() || !starts_with_word(s, stop);
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) {
      // Leftmost start of the whitespace run ending at `start`.
      size_t ns = start;
      while (ns > 0) {
        size_t i = ns - 1;
        while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
        size_t k = i;
        if (!uni::is_whitespace(uni::next(s, k))) break;
        ns = i;
      }
      start = std::max(ns, start_offset);
    }
    if (tok.rstrip) {
      size_t k = stop;
      while (k < s.size()) {
        size_t b = k;
        if (!uni::is_whitespace(uni::next(s, k))) {
          k = b;
          break;
        }
      }
      stop = k;
      pos = std::max(pos, stop);
    }
    if (start_offset < start) out.push_back({std::nullopt, start_offset, start});
    out.push_back({id, start, stop});
    start_offset = stop;
  }
  if (start_offset != s.size()) out.push_back({std::nullopt, start_offset, s.size()});
  return out;
}

std::vector<Split> AddedVocabulary::split_with_indices(NormalizedString&& n, const Trie& trie) const {
  std::vector<Split> out;
  for (const auto& p : find_matches(n.get(), trie)) {
    auto sl = n.slice_normalized({p.start, p.end});
    if (!sl) continue;
    if (p.id) {
      std::string value = sl->get();
      size_t len = value.size();
      std::vector<Token> toks{Token{*p.id, std::move(value), {0, len}}};
      out.push_back({std::move(*sl), std::move(toks)});
    } else {
      out.push_back({std::move(*sl), std::nullopt});
    }
  }
  return out;
}

PreTokenizedString AddedVocabulary::extract_and_normalize(const Normalizer* normalizer, const std::string& text) const {
  PreTokenizedString p(text);
  p.split([this](size_t, NormalizedString&& n) { return split_with_indices(std::move(n), raw_trie_); });
  p.split([this, normalizer](size_t, NormalizedString&& n) {
    if (normalizer) normalizer->normalize(n);
    return split_with_indices(std::move(n), norm_trie_);
  });
  return p;
}

}  // namespace ia::tok
