#include "pipelines/rag_beam.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "parts/logits_processors.h"
#include "templates/encoder_decoder/encdec_model.h"
#include "templates/rag/rag_marginalize.h"
#include "templates/rag/rag_model.h"

namespace ia {

BeamResult rag_beam_generate(RagModel& m, const Tensor& context_ids, const Tensor* context_mask,
                             const Tensor& doc_scores, const BeamSettings& b) {
  EncDecModel& g = m.generator();
  const Tensor ds = doc_scores.to_f32();
  IA_CHECK(ds.rank() == 2 && ds.dim(0) == 1 && ds.dim(1) > 0, "rag beam search: doc_scores must be [1, n_docs], got ",
           shape_str(ds.shape()));
  const int64_t n = ds.dim(1), nb = b.num_beams, V = g.vocab(), D = g.params().d_model;
  IA_CHECK(nb >= 1, "rag beam search: num_beams must be at least 1");
  IA_CHECK(context_ids.rank() == 2 && context_ids.dim(0) == n && context_ids.dim(1) > 0,
           "rag beam search: context_input_ids must be [n_docs=", n, ", seq], got ", shape_str(context_ids.shape()));
  const int64_t S = context_ids.dim(1), max_new = b.max_length - b.decoder_prompt_len;
  IA_CHECK(max_new >= 1, "rag beam search: max_new_tokens must be at least 1");
  const Tensor ids = context_ids.to_i64();
  for (int64_t i = 0; i < ids.numel(); ++i)
    IA_CHECK(ids.i64()[i] >= 0 && ids.i64()[i] < V, "rag: context_input_ids holds token id ", ids.i64()[i],
             " outside the generator vocabulary (size ", V, ")");
  std::vector<int64_t> mask(size_t(n * S), 1);
  if (context_mask) {
    IA_CHECK(context_mask->shape() == context_ids.shape(), "rag beam search: context_attention_mask shape ",
             shape_str(context_mask->shape()), " does not match context_input_ids ", shape_str(context_ids.shape()));
    const Tensor mi = context_mask->to_i64();
    for (int64_t i = 0; i < n * S; ++i) mask[size_t(i)] = mi.i64()[i] != 0;
  }
  // The encoder runs once on the n contexts; every beam gets a copy (extend_enc_output).
  const float* enc = g.encode(ids.i64(), mask.data(), n, S);
  std::vector<float> states(size_t(nb * n * S * D));
  std::vector<int64_t> masks(size_t(nb * n * S));
  for (int64_t j = 0; j < nb; ++j) {
    std::memcpy(states.data() + j * n * S * D, enc, size_t(n * S * D) * sizeof(float));
    std::copy(mask.begin(), mask.end(), masks.begin() + j * n * S);
  }
  g.set_encoder_output(states.data(), masks.data(), nb * n, S);
  g.start_decoding(max_new);

  std::vector<float> scores_rep(size_t(nb * n));  // doc_scores.repeat_interleave(num_beams)
  for (int64_t j = 0; j < nb; ++j) std::copy(ds.f32(), ds.f32() + n, scores_rep.begin() + j * n);
  GenerateConfig cfg = m.generate_config();
  cfg.eos_ids = b.eos_ids;
  LogitsProcessors proc(cfg, V, b.decoder_prompt_len, b.max_length, !b.eos_ids.empty(), true);
  const GenerateConfig& gc = m.generate_config();
  IA_CHECK(gc.decoder_start_id || gc.bos_id, "rag: neither decoder_start_token_id nor bos_token_id is set");
  const int64_t start = gc.decoder_start_id ? *gc.decoder_start_id : *gc.bos_id;

  std::vector<std::vector<int64_t>> seqs(size_t(nb), std::vector<int64_t>{start}), next_seqs;
  std::vector<int64_t> rows_next(size_t(nb * n), start), row_src(size_t(nb * n)), tokens, src_beam;
  std::vector<float> marg(size_t(nb * V)), work;
  BeamSearch search(b);
  while (true) {
    const float* logits = g.decode(rows_next.data(), 1);  // [nb * n, V]
    rag_marginalize(logits, scores_rep.data(), nb, n, 1, V, marg.data(), work);
    const int64_t cur_len = int64_t(seqs[0].size());
    for (int64_t r = 0; r < nb; ++r) {
      float* row = marg.data() + r * V;
      log_softmax_rows(row, 1, V);  // _beam_search log-softmaxes the (already marginalised) logits again
      proc.apply(row, seqs[size_t(r)].data(), cur_len, ids.i64(), S);
      const float bs = search.beam_scores()[size_t(r)];
      for (int64_t t = 0; t < V; ++t) row[t] += bs;
    }
    search.step(marg.data(), V, seqs, tokens, src_beam);
    next_seqs.resize(size_t(nb));
    for (int64_t r = 0; r < nb; ++r) {
      next_seqs[size_t(r)] = seqs[size_t(src_beam[size_t(r)])];
      next_seqs[size_t(r)].push_back(tokens[size_t(r)]);
      for (int64_t d = 0; d < n; ++d) {
        row_src[size_t(r * n + d)] = src_beam[size_t(r)] * n + d;
        rows_next[size_t(r * n + d)] = tokens[size_t(r)];
      }
    }
    seqs.swap(next_seqs);
    g.reorder_decoder_rows(row_src.data());
    bool all_eos = !b.eos_ids.empty();
    for (int64_t r = 0; r < nb; ++r)
      all_eos = all_eos && std::find(b.eos_ids.begin(), b.eos_ids.end(), tokens[size_t(r)]) != b.eos_ids.end();
    if (search.done() || int64_t(seqs[0].size()) >= b.max_length || all_eos) break;
  }
  return search.finalize(seqs);
}

}  // namespace ia
