// Task heads of the encoder-only template, named as in transformers: the
// architecture class (config.architectures[0]) picks the head, the model type
// picks the head's weight names and activation.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "parts/nn.h"
#include "parts/weights.h"
#include "templates/encoder_only/encoder_params.h"

namespace ia {

enum class HeadKind {
  Base,                    // XxxModel: last_hidden_state (+ pooler_output)
  MaskedLM,                // XxxForMaskedLM (also BertLMHeadModel / XxxForCausalLM: same head; config.is_decoder
                           // makes the attention causal)
  SequenceClassification,  // logits [B, num_labels]
  TokenClassification,     // logits [B, T, num_labels]
  QuestionAnswering,       // start_logits / end_logits [B, T]
  PreTraining,             // BertForPreTraining / AlbertForPreTraining: MLM + NSP / SOP on the pooled output
  NextSentencePrediction,  // BertForNextSentencePrediction
  ElectraDiscriminator,    // ElectraForPreTraining: logits [B, T]
  DprEncoder,              // DPRContextEncoder / DPRQuestionEncoder: pooler_output = CLS (+ encode_proj)
  DprReader,               // DPRReader: start/end/relevance logits
  MultipleChoice,          // inputs [B, choices, T] -> logits [B, choices]
};

struct HeadChoice {
  HeadKind kind = HeadKind::Base;
  std::string base_prefix;  // where the base model lives when a head wraps it ("bert", "ctx_encoder.bert_model", ...)
};

// Maps (model_type, architecture) to a head; Unsupported for classes this template does not implement.
HeadChoice choose_head(const EncoderParams& p);
const char* head_kind_name(HeadKind k);

// MLM prediction head: dense -> act -> LayerNorm -> decoder (tied to the word embeddings unless
// tie_word_embeddings is false) + bias.
struct MlmHead {
  Linear dense;
  cpu::Act act = cpu::Act::GeluExact;
  LayerNorm norm;
  Linear decoder;
  static MlmHead load(const Weights& root, const EncoderParams& p, const Tensor& word_embeddings);
  Tensor forward(const Tensor& x) const;  // [N, hidden] -> [N, vocab]
};

// Sequence-level classifier: either pooled output -> out (BERT, ALBERT) or first token -> dense -> act -> out.
struct SequenceClassifier {
  bool uses_pooler = false;
  Linear dense;  // undefined when uses_pooler
  cpu::Act act = cpu::Act::Tanh;
  Linear out;
  // `multiple_choice`: the XxxForMultipleChoice variant (one score per choice; RoBERTa then reads the pooler).
  static SequenceClassifier load(const Weights& root, const EncoderParams& p, bool multiple_choice = false);
  // first_tokens [B, hidden] (CLS rows) or pooled [B, hidden] -> logits [B, num_labels]
  Tensor forward(const Tensor& first_tokens, const Tensor& pooled) const;
};

// The BERT / ALBERT pooler: tanh(dense(CLS)).
struct Pooler {
  Linear dense;
  bool defined() const { return dense.defined(); }
  static Pooler maybe_load(const Weights& base, const EncoderParams& p);
  Tensor forward(const Tensor& first_tokens) const;
};

}  // namespace ia
