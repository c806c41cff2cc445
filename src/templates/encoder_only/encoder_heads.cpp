#include "templates/encoder_only/encoder_heads.h"

#include "core/error.h"
#include "templates/encoder_only/legacy_norm_names.h"

namespace ia {

namespace {

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

const char* base_prefix_of(const std::string& model_type) {
  if (model_type == "roberta" || model_type == "xlm-roberta") return "roberta";
  if (model_type == "albert") return "albert";
  if (model_type == "electra") return "electra";
  if (model_type == "distilbert") return "distilbert";
  if (model_type == "deberta-v2") return "deberta";
  return "bert";
}

}  // namespace

const char* head_kind_name(HeadKind k) {
  switch (k) {
    case HeadKind::Base: return "base";
    case HeadKind::MaskedLM: return "masked_lm";
    case HeadKind::SequenceClassification: return "sequence_classification";
    case HeadKind::TokenClassification: return "token_classification";
    case HeadKind::QuestionAnswering: return "question_answering";
    case HeadKind::PreTraining: return "pretraining";
    case HeadKind::NextSentencePrediction: return "next_sentence_prediction";
    case HeadKind::ElectraDiscriminator: return "electra_discriminator";
    case HeadKind::DprEncoder: return "dpr_encoder";
    case HeadKind::DprReader: return "dpr_reader";
    case HeadKind::MultipleChoice: return "multiple_choice";
  }
  return "?";
}

HeadChoice choose_head(const EncoderParams& p) {
  HeadChoice h;
  const std::string& a = p.architecture;
  const std::string& t = p.model_type;
  h.base_prefix = base_prefix_of(t);
  if (t == "dpr") {
    if (a == "DPRContextEncoder") h.kind = HeadKind::DprEncoder, h.base_prefix = "ctx_encoder.bert_model";
    else if (a == "DPRQuestionEncoder") h.kind = HeadKind::DprEncoder, h.base_prefix = "question_encoder.bert_model";
    else if (a == "DPRReader") h.kind = HeadKind::DprReader, h.base_prefix = "span_predictor.encoder.bert_model";
    else if (a.empty()) h.kind = HeadKind::DprEncoder, h.base_prefix = "";  // resolved by probing the checkpoint
    else throw Unsupported(cat(p.config_label, ": DPR architecture '", a,
                               "' is not supported (DPRContextEncoder, DPRQuestionEncoder, DPRReader are)"));
    return h;
  }
  if (a.empty() || (ends_with(a, "Model") && !ends_with(a, "LMHeadModel"))) h.kind = HeadKind::Base;
  else if (ends_with(a, "ForMaskedLM")) h.kind = HeadKind::MaskedLM;
  else if (ends_with(a, "ForCausalLM") || a == "BertLMHeadModel") h.kind = HeadKind::MaskedLM;  // causal via is_decoder
  else if (ends_with(a, "ForSequenceClassification")) h.kind = HeadKind::SequenceClassification;
  else if (ends_with(a, "ForTokenClassification")) h.kind = HeadKind::TokenClassification;
  else if (ends_with(a, "ForQuestionAnswering")) h.kind = HeadKind::QuestionAnswering;
  else if (ends_with(a, "ForMultipleChoice") && t != "electra") h.kind = HeadKind::MultipleChoice;
  else if (a == "ElectraForPreTraining") h.kind = HeadKind::ElectraDiscriminator;
  else if (a == "BertForPreTraining" || a == "AlbertForPreTraining") h.kind = HeadKind::PreTraining;
  else if (a == "BertForNextSentencePrediction") h.kind = HeadKind::NextSentencePrediction;
  else
    throw Unsupported(cat(p.config_label, ": architecture '", a, "' is not supported by the encoder-only template (",
                          "base model, ForMaskedLM, ForSequenceClassification, ForTokenClassification, ",
                          "ForQuestionAnswering, ForMultipleChoice (not ELECTRA's), ForCausalLM and the ",
                          "pre-training heads are)"));
  return h;
}

MlmHead MlmHead::load(const Weights& root, const EncoderParams& p, const Tensor& word_embeddings) {
  MlmHead m;
  const int64_t H = p.hidden_size, E = p.embedding_size, V = p.vocab_size;
  const std::string& t = p.model_type;
  Weights dense, norm, dec, bias_owner;
  int64_t out_dim = H;  // width of the transformed features the decoder reads
  float eps = p.layer_norm_eps;
  m.act = p.act;
  if (t == "roberta" || t == "xlm-roberta") {
    const Weights w = root.pp("lm_head");
    dense = w.pp("dense"), norm = w.pp("layer_norm"), dec = w.pp("decoder"), bias_owner = w;
    m.act = cpu::Act::GeluExact;  // RobertaLMHead calls gelu() whatever hidden_act says
  } else if (t == "albert") {
    const Weights w = root.pp("predictions");
    dense = w.pp("dense"), norm = w.pp("LayerNorm"), dec = w.pp("decoder"), bias_owner = w;
    out_dim = E;
  } else if (t == "electra") {
    const Weights w = root.pp("generator_predictions");
    dense = w.pp("dense"), norm = w.pp("LayerNorm"), dec = root.pp("generator_lm_head"), bias_owner = dec;
    out_dim = E;
    m.act = cpu::Act::GeluExact;  // ElectraGeneratorPredictions uses get_activation("gelu")
  } else if (t == "distilbert") {
    dense = root.pp("vocab_transform"), norm = root.pp("vocab_layer_norm"), dec = root.pp("vocab_projector");
    bias_owner = dec;
    eps = 1e-12f;
  } else if (t == "deberta-v2" || t == "bert") {
    const Weights w = root.pp("cls").pp("predictions");
    dense = w.pp("transform").pp("dense"), norm = w.pp("transform").pp("LayerNorm"), dec = w.pp("decoder");
    bias_owner = w;
    if (t == "deberta-v2") out_dim = E;
  } else {
    throw Unsupported(cat(p.config_label, ": no masked-LM head for model type '", t, "'"));
  }
  m.dense = Linear::load(dense, H, out_dim, true);
  m.norm = load_encoder_layer_norm(norm, out_dim, eps);
  Tensor w = p.tie_word_embeddings ? word_embeddings : dec.get_raw("weight", {V, out_dim});
  IA_CHECK(w.rank() == 2 && w.dim(0) == V && w.dim(1) == out_dim, p.config_label,
           ": tied decoder needs word embeddings of shape [", V, ", ", out_dim, "], got ", shape_str(w.shape()));
  // The decoder bias is a separate parameter that transformers ties to decoder.bias.
  // Older checkpoints only store decoder.bias.
  Tensor b = bias_owner.has("bias") ? bias_owner.get("bias", {V}) : dec.get("bias", {V});
  const bool kernel_dtype = w.dtype() == DType::F32 || w.dtype() == DType::F16 || w.dtype() == DType::BF16;
  m.decoder = Linear::from(kernel_dtype ? w : w.to_f32(), b);
  return m;
}

Tensor MlmHead::forward(const Tensor& x) const {
  Tensor h = dense.forward(x);
  cpu::apply_act(act, h.f32(), h.numel());
  return decoder.forward(norm.forward(h));
}

Pooler Pooler::maybe_load(const Weights& base, const EncoderParams& p) {
  Pooler pl;
  // BertPooler is pooler.dense; AlbertModel's pooler is a bare Linear.
  Weights w = p.naming == EncoderNaming::Albert ? base.pp("pooler") : base.pp("pooler").pp("dense");
  if (w.has("weight")) pl.dense = Linear::load(w, p.hidden_size, p.hidden_size, true);
  return pl;
}

Tensor Pooler::forward(const Tensor& first_tokens) const {
  Tensor y = dense.forward(first_tokens);
  cpu::apply_act(cpu::Act::Tanh, y.f32(), y.numel());
  return y;
}

SequenceClassifier SequenceClassifier::load(const Weights& root, const EncoderParams& p, bool multiple_choice) {
  SequenceClassifier c;
  const int64_t H = p.hidden_size, L = multiple_choice ? 1 : p.num_labels;
  const std::string& t = p.model_type;
  const bool roberta_like = t == "roberta" || t == "xlm-roberta";
  if (t == "bert" || t == "albert" || (multiple_choice && roberta_like)) {
    c.uses_pooler = true;
    c.out = Linear::load(root.pp("classifier"), H, L, true);
  } else if (t == "roberta" || t == "xlm-roberta" || t == "electra") {
    c.dense = Linear::load(root.pp("classifier").pp("dense"), H, H, true);
    c.act = t == "electra" ? cpu::Act::GeluExact : cpu::Act::Tanh;  // ELECTRA's head uses gelu where BERT uses tanh
    c.out = Linear::load(root.pp("classifier").pp("out_proj"), H, L, true);
  } else if (t == "distilbert") {
    c.dense = Linear::load(root.pp("pre_classifier"), H, H, true);
    c.act = cpu::Act::Relu;
    c.out = Linear::load(root.pp("classifier"), H, L, true);
  } else if (t == "deberta-v2") {
    const int64_t P = p.deberta.pooler_hidden_size;
    IA_CHECK(P == H, p.config_label, ": pooler_hidden_size (", P, ") must equal hidden_size (", H,
             ") for the classifier that reads the ContextPooler output");
    c.dense = Linear::load(root.pp("pooler").pp("dense"), P, P, true);
    c.act = cpu::act_from_name(p.deberta.pooler_hidden_act, p.config_label + " field 'pooler_hidden_act'");
    c.out = Linear::load(root.pp("classifier"), H, L, true);
  } else {
    throw Unsupported(cat(p.config_label, ": no sequence-classification head for model type '", t, "'"));
  }
  return c;
}

Tensor SequenceClassifier::forward(const Tensor& first_tokens, const Tensor& pooled) const {
  if (uses_pooler) return out.forward(pooled);
  Tensor h = dense.forward(first_tokens);
  cpu::apply_act(act, h.f32(), h.numel());
  return out.forward(h);
}

}  // namespace ia
