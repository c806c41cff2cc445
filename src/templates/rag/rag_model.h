// The RAG architecture template (RagModel / RagTokenForGeneration, transformers 4.44.2):
// a question encoder (any encoder-only type the family table builds, DPR in
// practice, weights under "rag.question_encoder") and a generator (any
// encoder-decoder row, BART or T5, weights under "rag.generator"), both reused
// from their own templates. doc_scores = question pooler_output . doc_embeds^T;
// the generator runs once per (question, document) context row; RAG-token
// marginalises the per-document log-probabilities with the documents' log-softmaxed
// scores and decodes greedily over the marginalised log-probs.
//
// There is no retriever inside the model (as transformers without a RagRetriever):
// callers pass the contexts (context_input_ids [B*n_docs, S]) and either doc_scores
// [B, n_docs] or question_input_ids + retrieved_doc_embeds [B, n_docs, H].
// The rag pipeline (pipelines/rag_pipeline) does the retrieval and calls the API below.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parts/generate_config.h"
#include "templates/model.h"

namespace ia {

class EncDecModel;

// RagConfig fields the retrieval side needs (retrieval_rag.py).
struct RagSettings {
  int64_t n_docs = 5;
  std::string title_sep = " / ", doc_sep = " // ";
  std::string prefix;               // generator.prefix (prepended to every context string)
  int64_t max_combined_length = 300;
  bool do_marginalize = false;      // forward(): logits marginalised over documents
  bool output_retrieved = false;
  int64_t retrieval_vector_size = 768;
};

// The generation config RagTokenForGeneration.generate uses (rag_config.cpp).
struct RagGeneration {
  GenerateConfig config;
  int64_t num_beams = 1, num_return_sequences = 1;
  double length_penalty = 1.0;
  nlohmann::json early_stopping = false;  // true, false or "never"
};

class RagModel : public Model {
 public:
  explicit RagModel(const ModelContext& ctx);
  ~RagModel() override;

  const std::string& model_type() const override { return type_; }
  Family family() const override { return Family::Rag; }
  // Inputs: context_input_ids [B*n, S], context_attention_mask (optional), decoder_input_ids [B, T]
  // (optional for BART: shifted contexts), decoder_attention_mask (optional), and doc_scores [B, n] or
  // question_input_ids (or input_ids) [B, Q] (+ question_attention_mask) with retrieved_doc_embeds [B, n, H].
  // Outputs: logits (per document [B*n, T, V]; marginalised [B, T, V] when config.do_marginalize),
  // marginalized_logits [B, T, V], doc_logits (per document [B*n, T, V], always), doc_scores, question_pooler_output (when the question was encoded),
  // generator_enc_last_hidden_state.
  TensorMap forward(const TensorMap& inputs) override;
  // RagTokenForGeneration.generate: greedy over marginalised log-probs with the generator's
  // caches -> sequences [B, 1 + new], step_logits (marginalised log-probs) and step_scores [B, new, V].
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override;

  const RagSettings& settings() const { return s_; }
  Model& question_encoder() { return *qenc_; }
  EncDecModel& generator() { return *gen_; }
  const GenerateConfig& generate_config() const { return gcfg_; }
  const RagGeneration& generation() const { return generation_; }
  int64_t vocab() const;
  int64_t question_hidden() const { return q_hidden_; }

  // Question pooler output [B, H] from ids [B, Q] (mask may be undefined).
  Tensor encode_question(const Tensor& ids, const Tensor* mask);
  // doc_scores [B, n] = pooler [B, H] . embeds [B, n, H]^T.
  static Tensor doc_scores_from(const Tensor& pooler, const Tensor& doc_embeds, const std::string& who);
  // Greedy RAG-token decoding over explicit contexts (the pipeline's entry).
  TensorMap generate_from_contexts(const Tensor& context_ids, const Tensor* context_mask, const Tensor& doc_scores,
                                   const GenerateOptions& opts);
  // RagSequenceForGeneration.generate (greedy per document, NLL rescoring): sequences
  // [B * num_return_sequences, L] (rag_sequence.cpp).
  TensorMap generate_sequence(const Tensor& context_ids, const Tensor* context_mask, const Tensor& doc_scores,
                              const GenerateOptions& opts);

 private:
  Tensor scores_from_inputs(const TensorMap& in, Tensor* pooler_out);
  void check_contexts(const Tensor& ctx, const Tensor* mask, int64_t batch, int64_t n_docs) const;
  // RAG-sequence NLL of one candidate over the n contexts of one question (get_nll).
  double sequence_loss(const Tensor& ctx, const Tensor& mask, const float* doc_scores, const std::vector<int64_t>& cand,
                       bool use_bos);

  // RagSequenceForGeneration settings.
  struct SequenceSettings {
    bool do_deduplication = true;
    int64_t num_return_sequences = 1, num_beams = 1;  // RagConfig attributes (not the generation config)
    double label_smoothing = 0.0;
    std::optional<int64_t> bos_id;  // config.bos_token_id or generator.bos_token_id (Python `or`)
    int64_t pad_id = 1;             // generator.pad_token_id
  } seq_;

  std::string type_ = "rag", architecture_;
  RagSettings s_;
  GenerateConfig gcfg_;
  RagGeneration generation_;
  std::unique_ptr<Model> qenc_;
  std::unique_ptr<EncDecModel> gen_;
  std::string qenc_type_, gen_type_;
  int64_t q_hidden_ = 0, num_beams_ = 1;
  std::vector<float> work_;
};

std::unique_ptr<Model> make_rag_model(const ModelContext& ctx);

}  // namespace ia
