#include "pipelines/beam_search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace ia {

BeamSearch::BeamSearch(BeamSettings s) : s_(std::move(s)) {
  IA_CHECK(s_.num_beams > 1, "num_beams must be greater than 1 for beam search, got ", s_.num_beams);
  IA_CHECK(s_.num_return_sequences >= 1 && s_.num_return_sequences <= s_.num_beams,
           "num_return_sequences (", s_.num_return_sequences, ") must be between 1 and num_beams (", s_.num_beams, ")");
  IA_CHECK(s_.early_stopping != EarlyStopping::Never || s_.max_length > s_.decoder_prompt_len,
           "max_length is not larger than decoder prompt length");
  beam_scores_.assign(size_t(s_.num_beams), -1e9f);
  beam_scores_[0] = 0.f;
}

bool BeamSearch::is_eos(int64_t t) const { return std::find(s_.eos_ids.begin(), s_.eos_ids.end(), t) != s_.eos_ids.end(); }

void BeamSearch::add(Hypotheses& h, const std::vector<int64_t>& tokens, double sum_logprobs, int64_t generated_len) const {
  const double score = sum_logprobs / std::pow(double(generated_len), s_.length_penalty);
  const size_t n = size_t(s_.num_beams);
  if (h.beams.size() < n || score > h.worst) {
    h.beams.push_back({score, tokens});
    if (h.beams.size() > n) {
      // Drop the worst (Python's sorted((s, idx)): lowest score, then lowest index).
      std::vector<size_t> order(h.beams.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return h.beams[a].score < h.beams[b].score; });
      const double second = h.beams[order[1]].score;
      h.beams.erase(h.beams.begin() + int64_t(order[0]));
      h.worst = second;
    } else {
      h.worst = std::min(score, h.worst);
    }
  }
}

bool BeamSearch::is_done(const Hypotheses& h, double best, int64_t cur_len) const {
  if (int64_t(h.beams.size()) < s_.num_beams) return false;
  if (s_.early_stopping == EarlyStopping::True) return true;
  double highest;
  if (s_.early_stopping == EarlyStopping::False) {
    highest = best / std::pow(double(cur_len - s_.decoder_prompt_len), s_.length_penalty);
  } else if (s_.length_penalty > 0.0) {
    highest = best / std::pow(double(s_.max_length - s_.decoder_prompt_len), s_.length_penalty);
  } else {
    highest = best / std::pow(double(cur_len - s_.decoder_prompt_len), s_.length_penalty);
  }
  return h.worst >= highest;
}

void BeamSearch::step(const float* scores, int64_t V, const std::vector<std::vector<int64_t>>& seqs,
                      std::vector<int64_t>& next_tokens, std::vector<int64_t>& source_beam) {
  const int64_t nb = s_.num_beams;
  IA_CHECK(int64_t(seqs.size()) == nb, "beam search: ", seqs.size(), " sequences for ", nb, " beams");
  const int64_t cur_len = int64_t(seqs[0].size()) + 1;  // BeamSearchScorer.process: input_ids.shape[-1] + 1
  next_tokens.assign(size_t(nb), s_.pad_id);
  source_beam.assign(size_t(nb), 0);
  if (done_) {  // a finished batch entry keeps padding
    std::fill(beam_scores_.begin(), beam_scores_.end(), 0.f);
    return;
  }
  // torch.topk(sorted=True) over [num_beams * vocab]: largest first (ties: lower index).
  const int64_t keep = std::max<int64_t>(2, 1 + int64_t(s_.eos_ids.size())) * nb;
  const int64_t total = nb * V;
  cand_.resize(size_t(total));
  std::iota(cand_.begin(), cand_.end(), 0);
  const int64_t k = std::min(keep, total);
  std::partial_sort(cand_.begin(), cand_.begin() + k, cand_.end(), [&](int64_t a, int64_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  int64_t filled = 0;
  float best = -INFINITY;
  for (int64_t rank = 0; rank < k; ++rank) {
    const int64_t c = cand_[size_t(rank)], beam = c / V, tok = c % V;
    const float sc = scores[c];
    best = std::max(best, sc);
    if (is_eos(tok)) {
      if (rank >= nb) continue;  // an EOS below the top num_beams does not close a hypothesis
      add(hyps_, seqs[size_t(beam)], double(sc), cur_len - s_.decoder_prompt_len);
    } else {
      beam_scores_[size_t(filled)] = sc;
      next_tokens[size_t(filled)] = tok;
      source_beam[size_t(filled)] = beam;
      ++filled;
    }
    if (filled == nb) break;
  }
  IA_CHECK(filled == nb, "beam search: too many candidates are EOS tokens to fill ", nb, " beams");
  // next_scores[batch].max(): the best of all kept candidates (the first, as they are sorted).
  best = scores[cand_[0]];
  done_ = done_ || is_done(hyps_, double(best), cur_len);
}

BeamResult BeamSearch::finalize(const std::vector<std::vector<int64_t>>& seqs) const {
  Hypotheses h = hyps_;
  if (!done_)
    for (int64_t b = 0; b < s_.num_beams; ++b)
      add(h, seqs[size_t(b)], double(beam_scores_[size_t(b)]), int64_t(seqs[size_t(b)].size()) - s_.decoder_prompt_len);
  // sorted(key=score) then pop() from the end: the highest score, later entries first on ties.
  std::vector<size_t> order(h.beams.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return h.beams[a].score < h.beams[b].score; });
  BeamResult r;
  size_t longest = 0;
  for (int64_t j = 0; j < s_.num_return_sequences; ++j) {
    const Hyp& best = h.beams[order[order.size() - 1 - size_t(j)]];
    r.sequences.push_back(best.tokens);
    r.scores.push_back(best.score);
    longest = std::max(longest, best.tokens.size());
  }
  // Shorter sequences get an EOS after their end when there is room (sent_max_len),
  // then pad up to the common length.
  const size_t max_len = std::min<size_t>(longest + 1, size_t(s_.max_length));
  for (auto& seq : r.sequences) {
    if (seq.size() < max_len && !s_.eos_ids.empty()) seq.push_back(s_.eos_ids[0]);
    r.lengths.push_back(int64_t(seq.size()));
    if (seq.size() < max_len) seq.resize(max_len, s_.pad_id);
  }
  return r;
}

}  // namespace ia
