// RagTokenForGeneration.generate (4.44.2), greedy: the generator encodes every
// (question, document) context once, then each step decodes one token for all
// batch * n_docs rows with the generator's self/cross-attention caches, marginalises
// the documents' log-probs (rag_marginalize) and applies the logits processors of
// the RAG generation config to the marginalised scores; the chosen token is fed to
// every document row of its batch row. RAG's generate runs _sample without a
// logits warper, so do_sample never applies.

#include "core/error.h"
#include "templates/encoder_decoder/encdec_model.h"
#include "templates/encoder_decoder/seq2seq_greedy.h"
#include "templates/rag/rag_marginalize.h"
#include "templates/rag/rag_model.h"

namespace ia {

TensorMap RagModel::generate(const TensorMap& in, const GenerateOptions& opts) {
  Tensor scores = scores_from_inputs(in, nullptr);
  if (architecture_ == "RagSequenceForGeneration")
    return generate_sequence(require_input(in, "context_input_ids", "rag"), optional_input(in, "context_attention_mask"),
                             scores, opts);
  return generate_from_contexts(require_input(in, "context_input_ids", "rag"),
                                optional_input(in, "context_attention_mask"), scores, opts);
}

TensorMap RagModel::generate_from_contexts(const Tensor& context_ids, const Tensor* context_mask,
                                           const Tensor& doc_scores, const GenerateOptions& opts) {
  IA_CHECK(doc_scores.rank() == 2 && doc_scores.dim(0) > 0 && doc_scores.dim(1) > 0,
           "rag: doc_scores must be [batch, n_docs], got ", shape_str(doc_scores.shape()));
  const Tensor ds = doc_scores.to_f32();
  const int64_t B = ds.dim(0), n = ds.dim(1), V = vocab();
  check_contexts(context_ids, context_mask, B, n);
  if (num_beams_ > 1)
    throw Unsupported(cat("rag: the generation config asks for num_beams=", num_beams_,
                          "; RAG-token beam search is not implemented (greedy only)"));
  Seq2SeqGreedy greedy(gcfg_, opts, V, "rag");
  const int64_t max_new = greedy.max_new(), S = context_ids.dim(1), R = B * n;

  Tensor ids = context_ids.to_i64();
  std::vector<int64_t> mask;
  if (context_mask) {
    Tensor m = context_mask->to_i64();
    mask.assign(m.i64(), m.i64() + m.numel());
  }
  for (int64_t i = 0; i < ids.numel(); ++i)
    IA_CHECK(ids.i64()[i] >= 0 && ids.i64()[i] < V, "rag: context_input_ids holds token id ", ids.i64()[i],
             " outside the generator vocabulary (size ", V, ")");

  std::vector<float> marg(static_cast<size_t>(B * V));
  std::vector<int64_t> rows_next(static_cast<size_t>(R));
  std::vector<float> doc_token_lp;  // [step][b][d]: log p(chosen token | context d), for source attribution
  doc_token_lp.reserve(size_t(max_new * R));
  if (max_new > 0) {
    gen_->encode(ids.i64(), mask.empty() ? nullptr : mask.data(), R, S);
    gen_->start_decoding(max_new);
  }
  // Each step decodes all B * n document rows (the question's token fed to each of its
  // documents) and marginalises them into one row of scores per question.
  auto step = [&](const int64_t* next) {
    for (int64_t r = 0; r < R; ++r) rows_next[size_t(r)] = next[r / n];
    const float* logits = gen_->decode(rows_next.data(), 1);  // [B*n, V]
    rag_marginalize(logits, ds.f32(), B, n, 1, V, marg.data(), work_);
    return static_cast<const float*>(marg.data());
  };
  auto record_doc_logprobs = [&](const int64_t* next) {
    // rag_marginalize leaves each document's log-softmaxed logits at the start of work_.
    for (int64_t r = 0; r < R; ++r) doc_token_lp.push_back(work_[size_t(r * V + next[r / n])]);
  };
  // encoder_input_ids for the encoder-based processors: transformers passes all B*n
  // context rows; with one document per question that is row b's context.
  TensorMap out = greedy.run(B, ids.i64(), n * S, S, step, record_doc_logprobs);
  const int64_t produced = out.at("sequences").dim(1) - 1;
  out["doc_scores"] = ds;
  if (opts.return_step_logits) {
    Tensor dl = Tensor::f32({B, n, produced});
    for (int64_t st = 0; st < produced; ++st)
      for (int64_t r = 0; r < R; ++r) dl.f32()[r * produced + st] = doc_token_lp[size_t(st * R + r)];
    out["doc_token_logprobs"] = dl;
  }
  return out;
}

}  // namespace ia
