// RagTokenForGeneration.generate (4.44.2), greedy: the generator encodes every
// (question, document) context once, then each step decodes one token for all
// batch * n_docs rows with the generator's self/cross-attention caches, marginalises
// the documents' log-probs (rag_marginalize) and applies the logits processors of
// the RAG generation config to the marginalised scores; the chosen token is fed to
// every document row of its batch row. RAG's generate runs _sample without a
// logits warper, so do_sample never applies.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "templates/greedy_decode.h"
#include "parts/logits_processors.h"
#include "templates/encoder_decoder/encdec_model.h"
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
  IA_CHECK(opts.max_new_tokens >= 0, "rag: max_new_tokens must not be negative");
  const int64_t max_new = opts.max_new_tokens, S = context_ids.dim(1), R = B * n;

  GenerateConfig g = gcfg_;
  if (!opts.eos_token_ids.empty()) g.eos_ids = opts.eos_token_ids;
  const bool eos_on = opts.eos_stops && !g.eos_ids.empty();
  IA_CHECK(g.decoder_start_id || g.bos_id, "rag: neither decoder_start_token_id nor bos_token_id is set (config.json / "
                                           "generation_config.json)");
  const int64_t start = g.decoder_start_id ? *g.decoder_start_id : *g.bos_id;
  IA_CHECK(start >= 0 && start < V, "rag: decoder_start_token_id ", start, " is outside the vocabulary (size ", V, ")");
  const int64_t pad = opts.pad_token_id ? *opts.pad_token_id : (g.pad_id ? *g.pad_id : (g.eos_ids.empty() ? 0 : g.eos_ids[0]));
  LogitsProcessors proc(g, V, 1, 1 + max_new, eos_on, true);

  Tensor ids = context_ids.to_i64();
  std::vector<int64_t> mask;
  if (context_mask) {
    Tensor m = context_mask->to_i64();
    mask.assign(m.i64(), m.i64() + m.numel());
  }
  for (int64_t i = 0; i < ids.numel(); ++i)
    IA_CHECK(ids.i64()[i] >= 0 && ids.i64()[i] < V, "rag: context_input_ids holds token id ", ids.i64()[i],
             " outside the generator vocabulary (size ", V, ")");

  const int64_t L = 1 + max_new;
  std::vector<int64_t> seq(size_t(B * L), pad);
  for (int64_t b = 0; b < B; ++b) seq[size_t(b * L)] = start;
  std::vector<float> step_logits, step_scores, marg(static_cast<size_t>(B * V)), row(static_cast<size_t>(V));
  step_logits.reserve(size_t(B * max_new * V));
  step_scores.reserve(size_t(B * max_new * V));
  std::vector<float> doc_token_lp;  // [step][b][d]: log p(chosen token | context d), for source attribution
  doc_token_lp.reserve(size_t(max_new * R));
  std::vector<char> done(size_t(B), 0);
  std::vector<int64_t> next(size_t(B), start), rows_next(size_t(R), start);
  int64_t produced = 0;
  if (max_new > 0) {
    gen_->encode(ids.i64(), mask.empty() ? nullptr : mask.data(), R, S);
    gen_->start_decoding(max_new);
    while (produced < max_new) {
      const float* logits = gen_->decode(rows_next.data(), 1);  // [B*n, V]
      rag_marginalize(logits, ds.f32(), B, n, 1, V, marg.data(), work_);
      step_logits.insert(step_logits.end(), marg.begin(), marg.end());
      const int64_t cur_len = 1 + produced;
      for (int64_t b = 0; b < B; ++b) {
        std::memcpy(row.data(), marg.data() + b * V, size_t(V) * 4);
        // encoder_input_ids for the encoder-based processors: transformers passes all B*n
        // context rows; with one document per question that is this row's context.
        proc.apply(row.data(), seq.data() + b * L, cur_len, ids.i64() + b * n * S, S);
        step_scores.insert(step_scores.end(), row.begin(), row.end());
        int64_t best = 0;  // first maximum, as torch.argmax
        for (int64_t j = 1; j < V; ++j)
          if (row[size_t(j)] > row[size_t(best)]) best = j;
        next[size_t(b)] = done[size_t(b)] ? pad : best;
        seq[size_t(b * L + cur_len)] = next[size_t(b)];
        for (int64_t d = 0; d < n; ++d) {
          rows_next[size_t(b * n + d)] = next[size_t(b)];
          // rag_marginalize leaves each document's log-softmaxed logits at the start of work_.
          doc_token_lp.push_back(work_[size_t((b * n + d) * V + next[size_t(b)])]);
        }
      }
      ++produced;
      bool all_done = true;
      for (int64_t b = 0; b < B; ++b) {
        if (eos_on && std::find(g.eos_ids.begin(), g.eos_ids.end(), next[size_t(b)]) != g.eos_ids.end())
          done[size_t(b)] = 1;
        all_done = all_done && done[size_t(b)];
      }
      if (eos_on && all_done) break;
    }
  }
  Tensor sequences = Tensor::empty(DType::I64, {B, 1 + produced});
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(sequences.i64() + b * (1 + produced), seq.data() + b * L, size_t(1 + produced) * 8);
  TensorMap out{{"sequences", sequences}, {"doc_scores", ds}};
  if (opts.return_step_logits) {
    Tensor sl = batch_major_steps(step_logits, B, produced, V), ss = batch_major_steps(step_scores, B, produced, V);
    Tensor dl = Tensor::f32({B, n, produced});
    for (int64_t st = 0; st < produced; ++st)
      for (int64_t r = 0; r < R; ++r) dl.f32()[r * produced + st] = doc_token_lp[size_t(st * R + r)];
    out["doc_token_logprobs"] = dl;
    out["step_logits"] = sl;
    out["step_scores"] = ss;
  }
  return out;
}

}  // namespace ia
