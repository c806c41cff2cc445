// RAG-token beam search (RagTokenForGeneration.generate with num_beams > 1, 4.44.2):
// every beam carries the question's n_docs context rows (batch, beam, doc order, as
// extend_enc_output lays them out); each step marginalises the documents' log-probs
// per beam, applies log_softmax + the logits processors, adds the beam scores and
// lets BeamSearch (BeamSearchScorer) choose; the decoder's self-attention cache is
// reordered per beam with its documents (RAG's _reorder_stacked). One question per call.
#pragma once
#include "core/tensor.h"
#include "pipelines/beam_search.h"

namespace ia {

class RagModel;

// context_ids / context_mask [n_docs, S] (mask may be null), doc_scores [1, n_docs].
BeamResult rag_beam_generate(RagModel& m, const Tensor& context_ids, const Tensor* context_mask,
                             const Tensor& doc_scores, const BeamSettings& b);

}  // namespace ia
