// RagSequenceForGeneration.generate (4.44.2) with num_beams = 1: for each question the
// generator decodes every document's context on its own (generator.generate with the
// generator's generation config, attention mask inferred from padding as generate() does
// when given none), duplicates are dropped, and every candidate is scored by the
// RAG-sequence NLL over all documents (get_nll with exclude_bos_score=True: the document
// log-prior joins at the second target position, pad targets count zero, label smoothing
// from config.label_smoothing); the best config.num_return_sequences candidates are kept.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "core/error.h"
#include "templates/encoder_decoder/encdec_model.h"
#include "templates/rag/rag_marginalize.h"
#include "templates/rag/rag_model.h"

namespace ia {

namespace {

double logsumexp(const std::vector<double>& v) {
  double m = -INFINITY;
  for (double x : v) m = std::max(m, x);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

}  // namespace

double RagModel::sequence_loss(const Tensor& ctx, const Tensor& mask, const float* doc_scores,
                               const std::vector<int64_t>& cand, bool use_bos) {
  const int64_t n = ctx.dim(0), L = int64_t(cand.size()), pad = seq_.pad_id;
  Tensor dec = Tensor::empty(DType::I64, {n, L});
  for (int64_t d = 0; d < n; ++d) std::copy(cand.begin(), cand.end(), dec.i64() + d * L);
  // forward(labels=...) decodes the labels themselves (decoder_input_ids = labels, no shift).
  TensorMap g = gen_->forward({{"input_ids", ctx}, {"attention_mask", mask}, {"decoder_input_ids", dec}});
  Tensor lp = g.at("logits").clone();  // [n, L, V]
  const int64_t V = lp.dim(2);
  log_softmax_rows(lp.f32(), n * L, V);
  std::vector<float> dl(doc_scores, doc_scores + n);
  log_softmax_rows(dl.data(), 1, n);
  // target = labels shifted left, pad appended.
  std::vector<int64_t> target(size_t(L), pad);
  for (int64_t t = 0; t + 1 < L; ++t) target[size_t(t)] = cand[size_t(t + 1)];
  std::vector<double> ll(static_cast<size_t>(n)), smooth(static_cast<size_t>(n));
  for (int64_t d = 0; d < n; ++d) {
    double s_ll = 0, s_smooth = 0;
    for (int64_t t = 0; t < L; ++t) {
      if (target[size_t(t)] == pad) continue;  // _mask_pads
      const float* row = lp.f32() + (d * L + t) * V;
      const double add = t == 1 ? double(dl[size_t(d)]) : 0.0;  // doc log-prior joins at the second token
      if (!(use_bos && t == 0)) s_ll += double(row[target[size_t(t)]]) + add;
      double rs = 0;
      for (int64_t v = 0; v < V; ++v) rs += double(row[v]) + add;
      s_smooth += rs;
    }
    ll[size_t(d)] = s_ll;
    smooth[size_t(d)] = s_smooth;
  }
  const double nll = -logsumexp(ll), smooth_loss = -logsumexp(smooth);
  return (1.0 - seq_.label_smoothing) * nll + seq_.label_smoothing / double(V) * smooth_loss;
}

TensorMap RagModel::generate_sequence(const Tensor& context_ids, const Tensor* context_mask, const Tensor& doc_scores,
                                      const GenerateOptions& opts) {
  const Tensor ds = doc_scores.to_f32();
  IA_CHECK(ds.rank() == 2 && ds.dim(0) > 0 && ds.dim(1) > 0, "rag: doc_scores must be [batch, n_docs], got ",
           shape_str(ds.shape()));
  const int64_t B = ds.dim(0), n = ds.dim(1);
  check_contexts(context_ids, context_mask, B, n);
  if (seq_.num_beams > 1)
    throw Unsupported(cat("rag: RagSequenceForGeneration.generate with num_beams=", seq_.num_beams,
                          " (per-document beam search) is not implemented; greedy only"));
  const int64_t S = context_ids.dim(1);
  const Tensor ids = context_ids.to_i64();
  Tensor mask_all = context_mask ? context_mask->to_i64() : Tensor::empty(DType::I64, {B * n, S});
  if (!context_mask) std::fill(mask_all.i64(), mask_all.i64() + B * n * S, int64_t(1));
  GenerateOptions go = opts;
  go.return_step_logits = false;
  std::vector<std::vector<int64_t>> hypos;
  for (int64_t b = 0; b < B; ++b) {
    Tensor sub = Tensor::empty(DType::I64, {n, S}), sub_mask = Tensor::empty(DType::I64, {n, S});
    std::memcpy(sub.i64(), ids.i64() + b * n * S, size_t(n * S) * 8);
    std::memcpy(sub_mask.i64(), mask_all.i64() + b * n * S, size_t(n * S) * 8);
    // generator.generate(context ids, attention_mask=None): the mask is inferred from padding.
    TensorMap out = gen_->generate({{"input_ids", sub}}, go);
    const Tensor& seqs = out.at("sequences");
    const int64_t L = seqs.dim(1);
    std::vector<std::vector<int64_t>> cands;
    std::map<std::vector<int64_t>, size_t> seen;
    for (int64_t r = 0; r < n; ++r) {
      std::vector<int64_t> c(seqs.i64() + r * L, seqs.i64() + (r + 1) * L);
      if (seq_.do_deduplication && seen.count(c)) continue;
      seen.emplace(c, cands.size());
      cands.push_back(std::move(c));
    }
    // use_bos: every candidate's first target (second label) is bos (config.bos_token_id or generator's).
    bool use_bos = seq_.bos_id.has_value();
    for (const auto& c : cands) use_bos = use_bos && c.size() > 1 && c[1] == *seq_.bos_id;
    std::vector<double> loss;
    for (const auto& c : cands) loss.push_back(sequence_loss(sub, sub_mask, ds.f32() + b * n, c, use_bos));
    std::vector<size_t> order(cands.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return loss[x] < loss[y]; });
    const size_t keep = std::min<size_t>(size_t(seq_.num_return_sequences), order.size());
    for (size_t i = 0; i < keep; ++i) hypos.push_back(cands[order[i]]);
  }
  size_t L = 0;
  for (const auto& h : hypos) L = std::max(L, h.size());
  Tensor out = Tensor::empty(DType::I64, {int64_t(hypos.size()), int64_t(L)});
  for (size_t i = 0; i < hypos.size(); ++i)
    for (size_t t = 0; t < L; ++t) out.i64()[i * L + t] = t < hypos[i].size() ? hypos[i][t] : seq_.pad_id;
  return {{"sequences", out}};
}

}  // namespace ia
