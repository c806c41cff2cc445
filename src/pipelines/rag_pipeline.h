// The rag pipeline: retrieval-augmented generation over a user's documents.
//   1. documents (JSONL/JSON with title/text) are embedded with a DPR context encoder
//      (pooler_output of tokenizer(title, text)), or their precomputed "embedding"s are used;
//   2. the question is encoded by the RAG model's question encoder (pooler_output) and the
//      n_docs best documents are found by exact inner-product search (retrieval/flat_index);
//   3. each (document, question) pair becomes a context string as RagRetriever.postprocess_docs
//      builds it: prefix + title + title_sep + text + doc_sep + question (question = the
//      question tokenizer's decode of its own ids), tokenized by the generator tokenizer
//      (truncated at max_combined_length);
//   4. doc_scores = question . doc_embeds^T and RAG-token greedy generation (RagModel).
// Results: generative-qa -> "rag_qa" {question, answer, retrieved_docs [{id, title, text, score,
// probability, answer_posterior, rank}], context_used, parameters}; document-retrieval ->
// "rag_retrieval" {question, num_docs_requested, num_docs_retrieved, retrieved_docs}.
// Source attribution: `probability` = softmax of the retrieved documents' scores (the prior the
// marginalisation uses), `answer_posterior` = p(document | question, answer) from the per-document
// token log-probs of the generated answer.
//
// Tokenizers are read from the RAG directory as RagTokenizer.save_pretrained lays them out:
// question_encoder_tokenizer/ and generator_tokenizer/ (tokenizer.json each); a directory
// with neither but a root tokenizer.json uses that one for both.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "retrieval/documents.h"
#include "retrieval/flat_index.h"

namespace ia {

class RagModel;
class Tokenizer;
class Model;

struct RagRequest {
  std::string task;                 // generative-qa (default; also "rag", "generative-question-answering") or document-retrieval
  std::vector<std::string> questions;
  int64_t n_docs = 0;               // 0: config.n_docs
  int64_t max_new_tokens = -1;      // -1: the RAG generation config (max_length - 1 or max_new_tokens)
  int64_t num_beams = 0;            // 0: the RAG generation config's num_beams (1 = greedy)
};

struct RetrievedDoc {
  int64_t index = 0;  // position in the document set
  float score = 0.f;  // inner product with the question embedding
};

class RagPipeline {
 public:
  explicit RagPipeline(const std::string& rag_dir);
  ~RagPipeline();

  // The document index: `docs_path` as load_documents reads it. Embeddings come from the
  // file when it has them, else from `context_encoder_dir` (a DPR context encoder directory;
  // its tokenizer.json, or the question encoder's tokenizer when it has none).
  void index_documents(const std::string& docs_path, const std::string& context_encoder_dir);
  // Precomputed embeddings [docs, dim] for an already loaded document set (tests, callers with their own encoder).
  void index_documents(DocumentSet docs, std::vector<float> embeddings, int64_t dim);

  // Never throws: failures become {"success": false, "error": ...}.
  nlohmann::json run(const RagRequest& req);

  // Steps, exposed for tests.
  std::vector<float> embed_question(const std::string& question, int64_t* dim);
  std::vector<RetrievedDoc> retrieve(const std::string& question, int64_t k);
  std::string context_string(const Document& doc, const std::string& question_text) const;
  std::string question_as_decoded(const std::string& question) const;
  const DocumentSet& documents() const { return docs_; }
  const FlatInnerProductIndex& index() const { return index_; }
  RagModel& model() { return *model_; }

 private:
  nlohmann::json answer(const std::string& question, int64_t k, int64_t max_new, int64_t num_beams);
  // Per-document log-probs [n, T] of `answer` under teacher forcing (attribution after beam search).
  std::vector<float> teacher_forced_logprobs(const Tensor& ids, const Tensor& mask, const Tensor& scores,
                                             const std::vector<int64_t>& answer);
  nlohmann::json retrieval(const std::string& question, int64_t k);

  std::string dir_;
  std::unique_ptr<Model> owner_;
  RagModel* model_ = nullptr;
  std::unique_ptr<Tokenizer> qtok_, gtok_;
  DocumentSet docs_;
  FlatInnerProductIndex index_;
  bool indexed_ = false;
  std::string encoder_label_ = "precomputed";
};

// True when dir/config.json says model_type "rag" (false for anything unreadable).
bool is_rag_model_dir(const std::string& dir);
// Loads the model, indexes the documents and runs the request; never throws.
nlohmann::json run_rag_pipeline(const std::string& rag_dir, const std::string& docs_path,
                                const std::string& context_encoder_dir, const RagRequest& req);

// Task name -> "generative-qa" or "document-retrieval"; errors on anything else.
std::string rag_task(const std::string& task);

}  // namespace ia
