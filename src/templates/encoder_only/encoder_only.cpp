// The encoder-only architecture template: one Model class for every BERT-family
// model type. The model type is data (EncoderParams); the architecture class
// picks the head (encoder_heads.h).
#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/encoder_only/encoder_only.h"
#include "templates/encoder_only/deberta_attention.h"
#include "templates/encoder_only/encoder_embeddings.h"
#include "templates/encoder_only/encoder_heads.h"
#include "templates/encoder_only/encoder_layer.h"
#include "templates/encoder_only/encoder_params.h"
#include "templates/family.h"
#include "templates/model.h"

namespace ia {

namespace {

class EncoderOnlyModel : public Model {
 public:
  EncoderOnlyModel(const ModelContext& ctx, const std::string& weight_prefix, const std::string& architecture);
  const std::string& model_type() const override { return p_.model_type; }
  Family family() const override { return Family::EncoderOnly; }
  TensorMap forward(const TensorMap& inputs) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override;

 private:
  void load_layers(const Weights& base);
  void load_head(const Weights& root, const Weights& base);
  EncoderBatch make_batch(const Tensor& ids, const Tensor* attention_mask) const;
  TensorMap flatten_choices(const TensorMap& in, int64_t* choices) const;

  EncoderParams p_;
  HeadChoice head_;
  std::string base_prefix_;
  EncoderEmbeddings emb_;
  std::vector<EncoderLayer> layers_;  // distinct weight sets (ALBERT: groups x inner layers)
  std::vector<size_t> schedule_;      // layer weights used by each applied layer, in order
  Tensor rel_embeddings_;             // DeBERTa, normalised
  DebertaConv conv_;
  Pooler pooler_;
  MlmHead mlm_;
  SequenceClassifier seq_cls_;
  Linear token_cls_, qa_outputs_, seq_relationship_;  // token-classification / QA / NSP-SOP
  Linear disc_dense_, disc_pred_;                     // ELECTRA discriminator
  Linear dpr_proj_, dpr_relevance_;                   // DPR encode_proj / reader qa_classifier
};

EncoderOnlyModel::EncoderOnlyModel(const ModelContext& ctx, const std::string& weight_prefix,
                                   const std::string& architecture) {
  IA_CHECK(ctx.checkpoint, ctx.config.label(), ": no checkpoint opened for the encoder");
  p_ = EncoderParams::from_context(ctx);
  if (!architecture.empty()) p_.architecture = architecture;
  head_ = choose_head(p_);
  const Weights root(ctx.checkpoint, weight_prefix);
  const std::string probe = "embeddings.word_embeddings.weight";
  Weights base;
  if (p_.model_type == "dpr" && head_.base_prefix.empty()) {
    base = resolve_base(root, {"ctx_encoder.bert_model", "question_encoder.bert_model", ""}, probe);
  } else {
    base = resolve_base(root, {head_.base_prefix.c_str(), ""}, probe);
  }
  base_prefix_ = base.prefix();
  emb_ = EncoderEmbeddings::load(base, p_);
  load_layers(base);
  pooler_ = Pooler::maybe_load(base, p_);
  load_head(root, base);
}

void EncoderOnlyModel::load_layers(const Weights& base) {
  const int64_t L = p_.num_layers;
  if (p_.naming == EncoderNaming::Albert) {
    const int64_t G = p_.num_hidden_groups, inner = p_.inner_group_num;
    const Weights groups = base.pp("encoder").pp("albert_layer_groups");
    for (int64_t g = 0; g < G; ++g)
      for (int64_t j = 0; j < inner; ++j)
        layers_.push_back(EncoderLayer::load(groups.pp(g).pp("albert_layers").pp(j), p_));
    // AlbertTransformer: layer i runs every inner layer of group int(i / (L / G)).
    for (int64_t i = 0; i < L; ++i) {
      const int64_t g = int64_t(double(i) / (double(L) / double(G)));
      for (int64_t j = 0; j < inner; ++j) schedule_.push_back(size_t(g * inner + j));
    }
    return;
  }
  const Weights encoder = base.pp(p_.naming == EncoderNaming::DistilBert ? "transformer" : "encoder");
  if (p_.naming == EncoderNaming::DebertaV2) {
    rel_embeddings_ = deberta_rel_embeddings(encoder, p_);
    conv_ = DebertaConv::load(encoder, p_);
  }
  for (int64_t i = 0; i < L; ++i) {
    layers_.push_back(EncoderLayer::load(encoder.pp("layer").pp(i), p_,
                                         rel_embeddings_.defined() ? &rel_embeddings_ : nullptr));
    schedule_.push_back(size_t(i));
  }
}

void EncoderOnlyModel::load_head(const Weights& root, const Weights& base) {
  const int64_t H = p_.hidden_size;
  switch (head_.kind) {
    case HeadKind::Base: break;
    case HeadKind::MaskedLM: mlm_ = MlmHead::load(root, p_, emb_.word.table); break;
    case HeadKind::SequenceClassification:
    case HeadKind::MultipleChoice:
      seq_cls_ = SequenceClassifier::load(root, p_, head_.kind == HeadKind::MultipleChoice);
      IA_CHECK(!seq_cls_.uses_pooler || pooler_.defined(), root.checkpoint().description(), ": missing tensor '",
               base.full(p_.naming == EncoderNaming::Albert ? "pooler.weight" : "pooler.dense.weight"),
               "' (the classifier reads the pooled output)");
      break;
    case HeadKind::TokenClassification:
      token_cls_ = Linear::load(root.pp("classifier"), H, p_.num_labels, true);
      break;
    case HeadKind::QuestionAnswering: qa_outputs_ = Linear::load(root.pp("qa_outputs"), H, 2, true); break;
    case HeadKind::PreTraining:
    case HeadKind::NextSentencePrediction:
      IA_CHECK(pooler_.defined(), root.checkpoint().description(), ": missing the pooler weights under '",
               base.prefix(), "' (the ", head_kind_name(head_.kind), " head reads the pooled output)");
      if (head_.kind == HeadKind::PreTraining) mlm_ = MlmHead::load(root, p_, emb_.word.table);
      if (p_.model_type == "albert")
        seq_relationship_ = Linear::load(root.pp("sop_classifier").pp("classifier"), H, p_.num_labels, true);
      else
        seq_relationship_ = Linear::load(root.pp("cls").pp("seq_relationship"), H, 2, true);
      break;
    case HeadKind::ElectraDiscriminator:
      disc_dense_ = Linear::load(root.pp("discriminator_predictions").pp("dense"), H, H, true);
      disc_pred_ = Linear::load(root.pp("discriminator_predictions").pp("dense_prediction"), H, 1, true);
      break;
    case HeadKind::DprEncoder:
    case HeadKind::DprReader: {
      // DPREncoder wraps BertModel as `bert_model`; encode_proj and the reader's heads sit beside it.
      std::string enc = base.prefix();
      const std::string suffix = "bert_model";
      enc = enc.size() >= suffix.size() ? enc.substr(0, enc.size() - suffix.size()) : "";
      if (!enc.empty() && enc.back() == '.') enc.pop_back();
      const Weights encw = enc.empty() ? root : root.pp(enc);
      int64_t width = H;
      if (p_.projection_dim > 0) {
        dpr_proj_ = Linear::load(encw.pp("encode_proj"), H, p_.projection_dim, true);
        width = p_.projection_dim;
      }
      if (head_.kind == HeadKind::DprReader) {
        qa_outputs_ = Linear::load(root.pp("span_predictor").pp("qa_outputs"), width, 2, true);
        dpr_relevance_ = Linear::load(root.pp("span_predictor").pp("qa_classifier"), width, 1, true);
      }
      break;
    }
  }
}

EncoderBatch EncoderOnlyModel::make_batch(const Tensor& ids, const Tensor* attention_mask) const {
  EncoderBatch b;
  b.B = ids.dim(0);
  b.T = ids.dim(1);
  b.mask.assign(size_t(b.B * b.T), 1);
  if (attention_mask) {
    IA_CHECK(attention_mask->shape() == ids.shape(), p_.model_type, ": attention_mask has shape ",
             shape_str(attention_mask->shape()), " but input_ids has ", shape_str(ids.shape()));
    Tensor m = attention_mask->to_i64();
    for (int64_t i = 0; i < b.B * b.T; ++i) b.mask[size_t(i)] = m.i64()[i] != 0 ? 1 : 0;
  } else if (head_.kind == HeadKind::DprEncoder) {
    // DPRContextEncoder / DPRQuestionEncoder default the mask to input_ids != pad_token_id.
    Tensor id = ids.to_i64();
    for (int64_t i = 0; i < b.B * b.T; ++i) b.mask[size_t(i)] = id.i64()[i] != p_.pad_token_id ? 1 : 0;
  }
  for (int64_t v : b.mask) b.any_padding |= v == 0;
  for (int64_t r = 0; r < b.B; ++r)
    if (std::all_of(b.mask.begin() + r * b.T, b.mask.begin() + (r + 1) * b.T, [](int64_t v) { return v == 0; }))
      b.masked_rows.push_back(r);
  if (p_.naming == EncoderNaming::DebertaV2) deberta_prepare_batch(p_, b);
  return b;
}

// XxxForMultipleChoice: [B, choices, T] inputs run as B*choices sequences.
TensorMap EncoderOnlyModel::flatten_choices(const TensorMap& in, int64_t* choices) const {
  const Tensor& ids = require_input(in, "input_ids", p_.model_type);
  IA_CHECK(ids.rank() == 3 && ids.numel() > 0, p_.model_type, ": ", p_.architecture,
           " needs input_ids of shape [batch, choices, seq], got ", shape_str(ids.shape()));
  *choices = ids.dim(1);
  TensorMap out;
  for (const auto& [name, t] : in) {
    IA_CHECK(t.shape() == ids.shape(), p_.model_type, ": ", name, " has shape ", shape_str(t.shape()),
             " but input_ids has ", shape_str(ids.shape()));
    out[name] = t.reshape({ids.dim(0) * ids.dim(1), ids.dim(2)});
  }
  return out;
}

TensorMap EncoderOnlyModel::forward(const TensorMap& raw_inputs) {
  int64_t choices = 0;
  const TensorMap flat = head_.kind == HeadKind::MultipleChoice ? flatten_choices(raw_inputs, &choices) : TensorMap();
  const TensorMap& inputs = head_.kind == HeadKind::MultipleChoice ? flat : raw_inputs;
  const Tensor& ids = require_input(inputs, "input_ids", p_.model_type);
  IA_CHECK(ids.rank() == 2 && ids.dim(0) > 0 && ids.dim(1) > 0, p_.model_type,
           ": input_ids must be a non-empty [batch, seq] tensor, got ", shape_str(ids.shape()));
  const int64_t B = ids.dim(0), T = ids.dim(1), H = p_.hidden_size;
  EncoderBatch batch = make_batch(ids, optional_input(inputs, "attention_mask"));

  Tensor x = emb_.forward(ids, optional_input(inputs, "token_type_ids"), optional_input(inputs, "position_ids"),
                          batch.mask.data());
  const Tensor embeddings = conv_.defined() ? x.clone() : Tensor();
  EncoderScratch scratch;
  for (size_t li = 0; li < schedule_.size(); ++li) {
    encoder_layer_forward(layers_[schedule_[li]], p_, batch, x, scratch);
    if (li == 0 && conv_.defined()) conv_.forward(embeddings, batch, x);
  }

  TensorMap out;
  out["last_hidden_state"] = x.reshape({B, T, H});
  Tensor first = Tensor::f32({B, H});
  for (int64_t b = 0; b < B; ++b)
    std::copy(x.f32() + b * T * H, x.f32() + b * T * H + H, first.f32() + b * H);
  Tensor pooled;
  if (pooler_.defined()) {
    pooled = pooler_.forward(first);
    out["pooler_output"] = pooled;
  }
  auto split_span_logits = [&](const Tensor& logits2) {  // [B*T, 2] -> start/end [B, T]
    Tensor s = Tensor::f32({B, T}), e = Tensor::f32({B, T});
    for (int64_t i = 0; i < B * T; ++i) {
      s.f32()[i] = logits2.f32()[2 * i];
      e.f32()[i] = logits2.f32()[2 * i + 1];
    }
    out["start_logits"] = s;
    out["end_logits"] = e;
  };
  switch (head_.kind) {
    case HeadKind::Base: break;
    case HeadKind::MaskedLM: out["logits"] = mlm_.forward(x).reshape({B, T, p_.vocab_size}); break;
    case HeadKind::SequenceClassification: out["logits"] = seq_cls_.forward(first, pooled); break;
    case HeadKind::MultipleChoice: out["logits"] = seq_cls_.forward(first, pooled).reshape({B / choices, choices}); break;
    case HeadKind::TokenClassification: out["logits"] = token_cls_.forward(x).reshape({B, T, p_.num_labels}); break;
    case HeadKind::QuestionAnswering: split_span_logits(qa_outputs_.forward(x)); break;
    case HeadKind::PreTraining:
      out["prediction_logits"] = mlm_.forward(x).reshape({B, T, p_.vocab_size});
      out[p_.model_type == "albert" ? "sop_logits" : "seq_relationship_logits"] = seq_relationship_.forward(pooled);
      break;
    case HeadKind::NextSentencePrediction: out["logits"] = seq_relationship_.forward(pooled); break;
    case HeadKind::ElectraDiscriminator: {
      Tensor h = disc_dense_.forward(x);
      cpu::apply_act(p_.act, h.f32(), h.numel());
      out["logits"] = disc_pred_.forward(h).reshape({B, T});
      break;
    }
    case HeadKind::DprEncoder:
      out["pooler_output"] = dpr_proj_.defined() ? dpr_proj_.forward(first) : first;
      break;
    case HeadKind::DprReader:
      split_span_logits(qa_outputs_.forward(x));
      out["relevance_logits"] = dpr_relevance_.forward(first).reshape({B});
      break;
  }
  return out;
}

nlohmann::json EncoderOnlyModel::describe() const {
  nlohmann::json j = p_.describe();
  j["head"] = head_kind_name(head_.kind);
  j["weight_prefix"] = base_prefix_;
  j["pooler"] = pooler_.defined() ? "tanh(dense(first token))" : "none";
  j["layers_applied"] = schedule_.size();
  return j;
}

std::vector<std::string> EncoderOnlyModel::tasks() const {
  switch (head_.kind) {
    case HeadKind::Base: return {"feature-extraction"};
    case HeadKind::MaskedLM: return {"fill-mask", "feature-extraction"};
    case HeadKind::SequenceClassification: return {"text-classification", "feature-extraction"};
    case HeadKind::TokenClassification: return {"token-classification", "feature-extraction"};
    case HeadKind::QuestionAnswering: return {"question-answering", "feature-extraction"};
    case HeadKind::PreTraining: return {"fill-mask", "feature-extraction"};
    case HeadKind::NextSentencePrediction: return {"next-sentence-prediction", "feature-extraction"};
    case HeadKind::ElectraDiscriminator: return {"replaced-token-detection", "feature-extraction"};
    case HeadKind::DprEncoder: return {"feature-extraction"};
    case HeadKind::DprReader: return {"question-answering"};
    case HeadKind::MultipleChoice: return {"multiple-choice", "feature-extraction"};
  }
  return {};
}

}  // namespace

std::unique_ptr<Model> build_encoder_only(const ModelContext& ctx, const std::string& weight_prefix,
                                          const std::string& architecture) {
  return std::make_unique<EncoderOnlyModel>(ctx, weight_prefix, architecture);
}

FamilyTemplate encoder_only_template() {
  return {Family::EncoderOnly,
          {"bert", "roberta", "xlm-roberta", "distilbert", "albert", "electra", "deberta-v2", "dpr"},
          [](const ModelContext& ctx) { return build_encoder_only(ctx); }};
}

}  // namespace ia
