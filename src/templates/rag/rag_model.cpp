// RagModel construction (question encoder + generator from their own templates)
// and the forward pass; generation is in rag_generate.cpp.
#include "templates/rag/rag_model.h"

#include <cstring>

#include "core/error.h"
#include "templates/encoder_decoder/encdec_model.h"
#include "templates/encoder_only/encoder_only.h"
#include "templates/family.h"
#include "templates/rag/rag_config.h"
#include "templates/rag/rag_marginalize.h"

namespace ia {

namespace {

const std::vector<std::string>& known_architectures() {
  static const std::vector<std::string> v = {"RagTokenForGeneration", "RagModel", "RagSequenceForGeneration"};
  return v;
}

ModelContext sub_context(const ModelContext& ctx, const HFConfig& sub, const char* key) {
  ModelContext s;
  s.dir = ctx.dir;
  s.config = sub;
  IA_CHECK(sub.has("model_type"), ctx.config.label(), ": '", key, "' has no model_type");
  s.model_type = sub.get_string("model_type");
  s.checkpoint = ctx.checkpoint;
  return s;
}

}  // namespace

RagModel::RagModel(const ModelContext& ctx) : architecture_(ctx.architecture) {
  const HFConfig& c = ctx.config;
  if (!architecture_.empty()) {
    bool known = false;
    for (const auto& a : known_architectures()) known = known || a == architecture_;
    if (!known)
      throw Unsupported(cat(c.label(), ": architecture '", architecture_,
                            "' is not implemented (supported: RagTokenForGeneration, RagModel, RagSequenceForGeneration)"));
  }
  IA_CHECK(c.has("question_encoder") && c.has("generator"), c.label(),
           ": a RAG config needs both 'question_encoder' and 'generator' sub-configs");
  IA_CHECK(ctx.checkpoint, c.label(), ": no checkpoint opened");
  const HFConfig qc = c.sub("question_encoder"), gc = c.sub("generator");
  // RagTokenForGeneration / RagSequenceForGeneration keep RagModel under "rag"; a bare RagModel does not.
  const std::string root = ctx.checkpoint->has_prefix("rag.") ? "rag." : "";

  ModelContext qctx = sub_context(ctx, qc, "question_encoder");
  qenc_type_ = qctx.model_type;
  const FamilyTemplate* qt = find_template(qenc_type_);
  if (!qt || qt->family != Family::EncoderOnly)
    throw Unsupported(cat(qc.label(), ": question encoder model_type '", qenc_type_,
                          "' is not an encoder-only type this build implements"));
  // AutoModel maps dpr to DPRQuestionEncoder (pooler_output = CLS state, projected when projection_dim > 0).
  qenc_ = build_encoder_only(qctx, root + "question_encoder", qenc_type_ == "dpr" ? "DPRQuestionEncoder" : "");
  const int64_t proj = qc.get_int("projection_dim", 0);
  q_hidden_ = proj > 0 ? proj : qc.get_int_any({"hidden_size", "d_model", "dim"}, 0);

  ModelContext gctx = sub_context(ctx, gc, "generator");
  gen_type_ = gctx.model_type;
  const FamilyTemplate* gt = find_template(gen_type_);
  if (!gt || gt->family != Family::EncoderDecoder)
    throw Unsupported(cat(gc.label(), ": generator model_type '", gen_type_,
                          "' is not an encoder-decoder type this build implements"));
  EncDecParams gp = encdec_params_from_config(gctx);  // AutoModelForSeq2SeqLM: the generation head
  gp.weight_prefix = root + "generator";
  nlohmann::json class_defaults = nlohmann::json::object();
  for (const auto& [k, v] : gp.generation_defaults) class_defaults[k] = v;
  gen_ = std::make_unique<EncDecModel>(gctx, std::move(gp));

  s_ = rag_settings_from_config(c, gc);
  RagGeneration rg = rag_generation_config(ctx.generation_config ? &*ctx.generation_config : nullptr, c, gc,
                                           class_defaults);
  gcfg_ = rg.config;
  num_beams_ = rg.num_beams;
  generation_ = rg;
  seq_.do_deduplication = c.get_bool("do_deduplication", true);
  seq_.num_return_sequences = c.get_int("num_return_sequences", 1);
  IA_CHECK(seq_.num_return_sequences >= 1, c.label(), ": num_return_sequences must be at least 1");
  seq_.num_beams = c.get_int("num_beams", 1);
  seq_.label_smoothing = c.get_float("label_smoothing", 0.0);
  // get_nll: `self.config.bos_token_id or self.config.generator.bos_token_id` (0 counts as unset).
  const int64_t top_bos = c.get_int("bos_token_id", 0);
  if (top_bos != 0) seq_.bos_id = top_bos;
  else if (gc.has("bos_token_id")) seq_.bos_id = gc.get_int("bos_token_id");
  else if (gen_type_ == "bart") seq_.bos_id = 0;  // BartConfig default
  seq_.pad_id = gc.get_int("pad_token_id", gen_type_ == "bart" ? 1 : 0);
}

RagModel::~RagModel() = default;

int64_t RagModel::vocab() const { return gen_->vocab(); }

Tensor RagModel::encode_question(const Tensor& ids, const Tensor* mask) {
  IA_CHECK(ids.rank() == 2 && ids.dim(0) > 0 && ids.dim(1) > 0, "rag: question_input_ids must be [batch, seq], got ",
           shape_str(ids.shape()));
  TensorMap in{{"input_ids", ids}};
  if (mask) in["attention_mask"] = *mask;
  TensorMap out = qenc_->forward(in);
  auto it = out.find("pooler_output");
  if (it == out.end())
    throw Unsupported(cat("rag: the question encoder (", qenc_type_, ") produces no pooler_output to score documents with"));
  return it->second;
}

Tensor RagModel::doc_scores_from(const Tensor& pooler, const Tensor& embeds, const std::string& who) {
  IA_CHECK(pooler.rank() == 2, who, ": question pooler output must be [batch, hidden], got ", shape_str(pooler.shape()));
  const int64_t B = pooler.dim(0), H = pooler.dim(1);
  IA_CHECK(embeds.rank() == 3 && embeds.dim(0) == B && embeds.dim(1) > 0, who,
           ": retrieved_doc_embeds must be [batch=", B, ", n_docs, hidden], got ", shape_str(embeds.shape()));
  IA_CHECK(embeds.dim(2) == H, who, ": retrieved_doc_embeds dimension ", embeds.dim(2),
           " does not match the question encoder's output dimension ", H);
  const int64_t n = embeds.dim(1);
  Tensor q = pooler.to_f32(), e = embeds.to_f32();
  Tensor s = Tensor::f32({B, n});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t d = 0; d < n; ++d) {
      const float* qa = q.f32() + b * H;
      const float* ea = e.f32() + (b * n + d) * H;
      float acc = 0.f;
      for (int64_t h = 0; h < H; ++h) acc += qa[h] * ea[h];
      s.f32()[b * n + d] = acc;
    }
  return s;
}

Tensor RagModel::scores_from_inputs(const TensorMap& in, Tensor* pooler_out) {
  if (const Tensor* ds = optional_input(in, "doc_scores")) {
    IA_CHECK(ds->rank() == 2 && ds->dim(0) > 0 && ds->dim(1) > 0, "rag: doc_scores must be [batch, n_docs], got ",
             shape_str(ds->shape()));
    return ds->to_f32();
  }
  const Tensor* q = optional_input(in, "question_input_ids");
  if (!q) q = optional_input(in, "input_ids");
  IA_CHECK(q, "rag: give doc_scores, or question_input_ids with retrieved_doc_embeds (the model has no retriever)");
  const Tensor* qm = optional_input(in, "question_attention_mask");
  if (!qm) qm = optional_input(in, "attention_mask");
  const Tensor& embeds = require_input(in, "retrieved_doc_embeds", "rag");
  Tensor pooler = encode_question(*q, qm);
  if (pooler_out) *pooler_out = pooler;
  return doc_scores_from(pooler, embeds, "rag");
}

namespace {

// Row b of [B, T] repeated n times (torch repeat_interleave(n, dim=0)).
Tensor repeat_rows(const Tensor& t, int64_t n, const char* name) {
  IA_CHECK(t.rank() == 2 && t.dim(0) > 0 && t.dim(1) > 0, "rag: ", name, " must be [batch, seq], got ",
           shape_str(t.shape()));
  Tensor v = t.to_i64();
  const int64_t B = v.dim(0), T = v.dim(1);
  Tensor r = Tensor::empty(DType::I64, {B * n, T});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t d = 0; d < n; ++d) std::memcpy(r.i64() + (b * n + d) * T, v.i64() + b * T, size_t(T) * 8);
  return r;
}

}  // namespace

void RagModel::check_contexts(const Tensor& ctx, const Tensor* mask, int64_t B, int64_t n) const {
  IA_CHECK(ctx.rank() == 2 && ctx.dim(1) > 0, "rag: context_input_ids must be [batch * n_docs, seq], got ",
           shape_str(ctx.shape()));
  IA_CHECK(ctx.dim(0) == B * n, "rag: context_input_ids has ", ctx.dim(0), " rows but doc_scores [", B, ", ", n,
           "] needs batch * n_docs = ", B * n);
  if (mask)
    IA_CHECK(mask->shape() == ctx.shape(), "rag: context_attention_mask shape ", shape_str(mask->shape()),
             " does not match context_input_ids ", shape_str(ctx.shape()));
}

TensorMap RagModel::forward(const TensorMap& in) {
  Tensor pooler;
  Tensor scores = scores_from_inputs(in, &pooler);
  const int64_t B = scores.dim(0), n = scores.dim(1);
  const Tensor& ctx = require_input(in, "context_input_ids", "rag");
  const Tensor* mask = optional_input(in, "context_attention_mask");
  check_contexts(ctx, mask, B, n);
  TensorMap gin{{"input_ids", ctx}};
  if (mask) gin["attention_mask"] = *mask;
  if (const Tensor* d = optional_input(in, "decoder_input_ids")) {
    IA_CHECK(d->rank() == 2 && d->dim(0) == B, "rag: decoder_input_ids must be [batch=", B, ", tgt], got ",
             shape_str(d->shape()));
    gin["decoder_input_ids"] = repeat_rows(*d, n, "decoder_input_ids");
  }
  if (const Tensor* d = optional_input(in, "decoder_attention_mask"))
    gin["decoder_attention_mask"] = repeat_rows(*d, n, "decoder_attention_mask");
  TensorMap g = gen_->forward(gin);
  const Tensor& logits = g.at("logits");  // [B*n, T, V]
  const int64_t T = logits.dim(1), V = logits.dim(2);
  Tensor marg = Tensor::f32({B, T, V});
  rag_marginalize(logits.f32(), scores.f32(), B, n, T, V, marg.f32(), work_);
  TensorMap out{{"doc_scores", scores}, {"marginalized_logits", marg}};
  // RagTokenForGeneration marginalises its logits output when config.do_marginalize; RagModel and
  // RagSequenceForGeneration return the per-document logits.
  const bool token = architecture_.empty() || architecture_ == "RagTokenForGeneration";
  out["logits"] = token && s_.do_marginalize ? marg : logits;
  out["doc_logits"] = logits;  // per document, always (attribution, RAG-sequence scoring)
  if (pooler.defined()) out["question_pooler_output"] = pooler;
  if (auto it = g.find("encoder_last_hidden_state"); it != g.end()) out["generator_enc_last_hidden_state"] = it->second;
  return out;
}

nlohmann::json RagModel::describe() const {
  nlohmann::json gd = gen_->describe();
  return {{"architecture", architecture_.empty() ? "RagTokenForGeneration" : architecture_},
          {"question_encoder", {{"model_type", qenc_type_}, {"template", qenc_->describe()}}},
          {"generator", {{"model_type", gen_type_}, {"template", gd}}},
          {"n_docs", s_.n_docs},
          {"marginalization", "rag-token: logsumexp_docs(log_softmax(logits) + log_softmax(doc_scores))"},
          {"do_marginalize", s_.do_marginalize},
          {"title_sep", s_.title_sep},
          {"doc_sep", s_.doc_sep},
          {"generator_prefix", s_.prefix},
          {"max_combined_length", s_.max_combined_length},
          {"num_beams", num_beams_}};
}

std::vector<std::string> RagModel::tasks() const { return {"generative-qa", "document-retrieval"}; }

std::unique_ptr<Model> make_rag_model(const ModelContext& ctx) { return std::make_unique<RagModel>(ctx); }

FamilyTemplate rag_template() { return {Family::Rag, {"rag"}, make_rag_model}; }

}  // namespace ia
