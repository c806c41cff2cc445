// Beam search bookkeeping as transformers 4.44's BeamSearchScorer /
// BeamHypotheses do it (one batch entry; the caller runs the model on
// `num_beams` rows and reorders its cache by the returned beam indices):
//   step(): from the per-beam log-prob scores (+ running beam scores) take the
//           top max(2, 1 + n_eos) * num_beams candidates; an EOS candidate ranked
//           within the first num_beams closes a hypothesis (score = sum_logprobs /
//           generated_len ** length_penalty), others continue until num_beams
//           beams are filled; then decide whether the search is done
//           (early_stopping true / false heuristic / "never").
//   finalize(): unfinished beams become hypotheses; the best num_return_sequences
//           are returned with their scores, padded as generate() pads them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ia {

enum class EarlyStopping { False, True, Never };

struct BeamSettings {
  int64_t num_beams = 4;
  double length_penalty = 1.0;
  EarlyStopping early_stopping = EarlyStopping::False;
  int64_t num_return_sequences = 1;
  int64_t max_length = 20;         // decoder tokens incl. the decoder prompt
  int64_t decoder_prompt_len = 1;  // encoder-decoders: the decoder start token
  std::vector<int64_t> eos_ids;
  int64_t pad_id = 0;
};

struct BeamResult {
  // Best first, each incl. the decoder prompt, as generate() returns them: an EOS
  // after a hypothesis shorter than the longest, then pad to a common length.
  std::vector<std::vector<int64_t>> sequences;
  std::vector<int64_t> lengths;  // tokens of each sequence before the padding (incl. that EOS)
  std::vector<double> scores;    // length-penalised sum of log-probs
};

class BeamSearch {
 public:
  explicit BeamSearch(BeamSettings s);

  // Running scores of the beams ([num_beams]; beam 0 starts at 0, the others at -1e9).
  const std::vector<float>& beam_scores() const { return beam_scores_; }
  // One step. scores [num_beams, vocab] = processed log-probs + beam_scores (the
  // caller adds them, as _beam_search does); seqs = current tokens of each beam
  // [num_beams][cur_len]. Fills next_tokens / source beam of each new beam.
  void step(const float* scores, int64_t vocab, const std::vector<std::vector<int64_t>>& seqs,
            std::vector<int64_t>& next_tokens, std::vector<int64_t>& source_beam);
  bool done() const { return done_; }
  // seqs = final beams (after the last step's reorder and append).
  BeamResult finalize(const std::vector<std::vector<int64_t>>& seqs) const;

 private:
  struct Hyp {
    double score;
    std::vector<int64_t> tokens;
  };
  struct Hypotheses {
    std::vector<Hyp> beams;
    double worst = 1e9;
  };
  void add(Hypotheses& h, const std::vector<int64_t>& tokens, double sum_logprobs, int64_t generated_len) const;
  bool is_done(const Hypotheses& h, double best_sum_logprobs, int64_t cur_len) const;
  bool is_eos(int64_t t) const;

  BeamSettings s_;
  std::vector<float> beam_scores_;
  Hypotheses hyps_;
  bool done_ = false;
  std::vector<int64_t> cand_;  // reused top-k candidate buffer
};

}  // namespace ia
