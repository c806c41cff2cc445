// RAG-token marginalisation (RagTokenForGeneration.marginalize, 4.44.2):
//   out[b, t, :] = logsumexp_d( log_softmax(logits[b*n + d, t, :]) + log_softmax(doc_scores[b, :])[d] )
// Split out of the model so the pipeline and the tests use the same arithmetic.
#pragma once
#include <cstdint>
#include <vector>

namespace ia {

// logits [B*n_docs, T, V] (row b*n_docs + d is document d of batch row b),
// doc_scores [B, n_docs] -> out [B, T, V]. `work` is scratch reused across calls; on return
// it starts with the per-document log_softmax(logits) [B*n_docs, T, V].
void rag_marginalize(const float* logits, const float* doc_scores, int64_t batch, int64_t n_docs, int64_t T,
                     int64_t vocab, float* out, std::vector<float>& work);

// log_softmax over each row of x [rows, n] in place (float, max-subtracted, as torch).
void log_softmax_rows(float* x, int64_t rows, int64_t n);

}  // namespace ia
