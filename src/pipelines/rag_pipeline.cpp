#include "pipelines/rag_pipeline.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/rag_beam.h"
#include "pipelines/text2text_pipeline.h"
#include "templates/model.h"
#include "templates/rag/rag_marginalize.h"
#include "templates/rag/rag_model.h"
#include "tokenizers/tokenizer.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

Tokenizer open_tokenizer(const std::string& dir, const char* what) {
  IA_CHECK(fs::exists(fs::path(dir) / "tokenizer.json"), dir, ": no tokenizer.json for the ", what,
           " (a RAG directory keeps them in question_encoder_tokenizer/ and generator_tokenizer/)");
  return Tokenizer::from_dir(dir);
}

// Ids [1, n] as an I64 tensor.
Tensor ids_tensor(const std::vector<uint32_t>& ids) {
  Tensor t = Tensor::empty(DType::I64, {1, int64_t(ids.size())});
  for (size_t i = 0; i < ids.size(); ++i) t.i64()[i] = int64_t(ids[i]);
  return t;
}

}  // namespace

bool is_rag_model_dir(const std::string& dir) {
  try {
    const fs::path cfg = fs::path(dir) / "config.json";
    if (!fs::exists(cfg)) return false;
    return HFConfig::load(cfg.string()).get_string("model_type", "") == "rag";
  } catch (const std::exception&) {
    return false;
  }
}

json run_rag_pipeline(const std::string& dir, const std::string& docs, const std::string& ctx_dir,
                      const RagRequest& req) {
  try {
    IA_CHECK(!docs.empty(), "rag: no documents: give --docs FILE (JSONL/JSON with title and text)");
    rag_task(req.task);  // a wrong task fails before the model loads
    RagPipeline p(dir);
    p.index_documents(docs, ctx_dir);
    return p.run(req);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

std::string rag_task(const std::string& task) {
  if (task.empty() || task == "rag" || task == "generative-qa" || task == "generative-question-answering" ||
      task == "question-answering" || task == "text2text-generation")
    return "generative-qa";
  if (task == "document-retrieval" || task == "retrieval") return "document-retrieval";
  fail("rag: task '", task, "' is not a rag task (generative-qa, document-retrieval)");
}

RagPipeline::RagPipeline(const std::string& dir) : dir_(dir) {
  owner_ = load_model(dir);
  model_ = dynamic_cast<RagModel*>(owner_.get());
  IA_CHECK(model_, dir, ": not a RAG model (model_type '", owner_->model_type(), "'); the rag pipeline needs model_type rag");
  // RagTokenizer.save_pretrained layout; a directory with one tokenizer.json at its root
  // (question encoder and generator sharing a vocabulary) uses it for both.
  fs::path q = fs::path(dir) / "question_encoder_tokenizer", g = fs::path(dir) / "generator_tokenizer";
  const bool shared = !fs::exists(q / "tokenizer.json") && !fs::exists(g / "tokenizer.json") &&
                      fs::exists(fs::path(dir) / "tokenizer.json");
  if (shared) q = g = fs::path(dir);
  qtok_ = std::make_unique<Tokenizer>(open_tokenizer(q.string(), "question encoder"));
  gtok_ = std::make_unique<Tokenizer>(open_tokenizer(g.string(), "generator"));
  // transformers sets the backend's truncation/padding per call: the question is encoded with
  // neither, the contexts with truncation=True, max_length=max_combined_length (special tokens
  // kept, content cut on the right). Padding is done here, to the longest context.
  qtok_->set_truncation(std::nullopt);
  qtok_->set_padding(std::nullopt);
  TruncationParams tp;
  tp.max_length = size_t(model_->settings().max_combined_length);
  gtok_->set_truncation(tp);
  gtok_->set_padding(std::nullopt);
}

RagPipeline::~RagPipeline() = default;

void RagPipeline::index_documents(DocumentSet docs, std::vector<float> emb, int64_t dim) {
  IA_CHECK(!docs.docs.empty(), docs.source, ": no documents to index");
  IA_CHECK(dim > 0 && int64_t(emb.size()) == int64_t(docs.docs.size()) * dim, docs.source, ": ", emb.size(),
           " embedding values for ", docs.docs.size(), " documents of dimension ", dim);
  for (float v : emb) IA_CHECK(std::isfinite(v), docs.source, ": document embeddings must be finite numbers");
  const int64_t qdim = model_->question_hidden();
  IA_CHECK(qdim <= 0 || dim == qdim, docs.source, ": document embedding dimension ", dim,
           " does not match the question encoder's output dimension ", qdim, " (", dir_, ")");
  index_ = FlatInnerProductIndex(emb.data(), int64_t(docs.docs.size()), dim);
  docs_ = std::move(docs);
  indexed_ = true;
}

void RagPipeline::index_documents(const std::string& docs_path, const std::string& ctx_dir) {
  DocumentSet set = load_documents(docs_path);
  if (set.dim > 0) {
    std::vector<float> emb = std::move(set.embeddings);
    const int64_t dim = set.dim;
    encoder_label_ = "precomputed (" + docs_path + ")";
    index_documents(std::move(set), std::move(emb), dim);
    return;
  }
  IA_CHECK(!ctx_dir.empty(), docs_path,
           ": the documents carry no 'embedding'; give a DPR context encoder directory (--context-encoder DIR)");
  std::unique_ptr<Model> enc = load_model(ctx_dir);
  const bool own_tok = fs::exists(fs::path(ctx_dir) / "tokenizer.json");
  std::unique_ptr<Tokenizer> own;
  if (own_tok) own = std::make_unique<Tokenizer>(Tokenizer::from_dir(ctx_dir));
  Tokenizer& tok = own_tok ? *own : *qtok_;
  // use_own_knowledge_dataset.py: ctx_tokenizer(title, text, truncation=True) -> pooler_output;
  // truncation at the encoder's length limit (model_max_length 512 for DPR), longest first.
  TruncationParams tp;
  tp.max_length = size_t(std::min<int64_t>(512, HFConfig::load((fs::path(ctx_dir) / "config.json").string())
                                                     .get_int("max_position_embeddings", 512)));
  tok.set_truncation(tp);
  struct Restore {
    Tokenizer& t;
    ~Restore() { t.set_truncation(std::nullopt); }
  } restore{tok};
  std::vector<float> emb;
  int64_t dim = 0;
  for (size_t i = 0; i < set.docs.size(); ++i) {
    Encoding e = tok.encode_pair(set.docs[i].title, set.docs[i].text, true);
    TensorMap out = enc->forward({{"input_ids", ids_tensor(e.ids)}});
    auto it = out.find("pooler_output");
    IA_CHECK(it != out.end(), ctx_dir, ": the context encoder produces no pooler_output (is it a DPRContextEncoder?)");
    Tensor p = it->second.to_f32();
    if (dim == 0) dim = p.dim(-1);
    emb.insert(emb.end(), p.f32(), p.f32() + dim);
  }
  encoder_label_ = ctx_dir;
  index_documents(std::move(set), std::move(emb), dim);
}

std::vector<float> RagPipeline::embed_question(const std::string& question, int64_t* dim) {
  Encoding e = qtok_->encode(question, true);
  IA_CHECK(!e.ids.empty(), "rag: the question tokenizes to no tokens");
  Tensor p = model_->encode_question(ids_tensor(e.ids), nullptr).to_f32();
  *dim = p.dim(-1);
  return std::vector<float>(p.f32(), p.f32() + p.numel());
}

std::vector<RetrievedDoc> RagPipeline::retrieve(const std::string& question, int64_t k) {
  IA_CHECK(indexed_, "rag: no documents indexed (give --docs FILE)");
  int64_t dim = 0;
  std::vector<float> q = embed_question(question, &dim);
  std::vector<RetrievedDoc> r;
  const auto hits = index_.search(q.data(), 1, dim, k);
  for (const auto& h : hits[0]) r.push_back({h.index, h.score});
  return r;
}

std::string RagPipeline::question_as_decoded(const std::string& question) const {
  // RagRetriever: input_strings = question_encoder_tokenizer.batch_decode(question_input_ids, skip_special_tokens=True).
  return qtok_->decode(qtok_->encode(question, true).ids, true);
}

std::string RagPipeline::context_string(const Document& doc, const std::string& question_text) const {
  const RagSettings& s = model_->settings();
  std::string title = doc.title;
  if (!title.empty() && title.front() == '"') title.erase(0, 1);
  if (!title.empty() && title.back() == '"') title.pop_back();
  std::string out = s.prefix + title + s.title_sep + doc.text + s.doc_sep + question_text;
  // str.replace("  ", " "): one left-to-right pass over non-overlapping pairs.
  std::string r;
  r.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    r.push_back(out[i]);
    if (out[i] == ' ' && i + 1 < out.size() && out[i + 1] == ' ') ++i;
  }
  return r;
}

json RagPipeline::retrieval(const std::string& question, int64_t k) {
  std::vector<RetrievedDoc> hits = retrieve(question, k);
  json docs = json::array();
  for (size_t i = 0; i < hits.size(); ++i) {
    const Document& d = docs_.docs[size_t(hits[i].index)];
    docs.push_back({{"rank", i + 1}, {"id", d.id}, {"title", d.title}, {"text", d.text}, {"score", hits[i].score}});
  }
  return {{"question", question},
          {"num_docs_requested", k},
          {"num_docs_retrieved", hits.size()},
          {"retrieved_docs", docs},
          {"index", {{"type", "exact-inner-product"}, {"documents", index_.size()}, {"dim", index_.dim()},
                     {"embeddings", encoder_label_}}}};
}

std::vector<float> RagPipeline::teacher_forced_logprobs(const Tensor& ids, const Tensor& mask, const Tensor& scores,
                                                       const std::vector<int64_t>& answer) {
  const int64_t n = ids.dim(0), T = int64_t(answer.size());
  std::vector<float> r;
  if (T == 0) return r;
  const GenerateConfig& g = model_->generate_config();
  const int64_t start = g.decoder_start_id ? *g.decoder_start_id : g.bos_id.value_or(0);
  Tensor dec = Tensor::empty(DType::I64, {1, T});
  dec.i64()[0] = start;
  for (int64_t t = 1; t < T; ++t) dec.i64()[t] = answer[size_t(t - 1)];
  TensorMap out = model_->forward({{"context_input_ids", ids}, {"context_attention_mask", mask},
                                   {"decoder_input_ids", dec}, {"doc_scores", scores}});
  const Tensor& logits = out.at("doc_logits");  // [n, T, V] whatever config.do_marginalize says
  const int64_t V = logits.dim(2);
  Tensor lp = logits.clone();
  log_softmax_rows(lp.f32(), n * T, V);
  r.resize(size_t(n * T));
  for (int64_t d = 0; d < n; ++d)
    for (int64_t t = 0; t < T; ++t) r[size_t(d * T + t)] = lp.f32()[(d * T + t) * V + answer[size_t(t)]];
  return r;
}

json RagPipeline::answer(const std::string& question, int64_t k, int64_t max_new, int64_t num_beams) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  int64_t dim = 0;
  IA_CHECK(indexed_, "rag: no documents indexed (give --docs FILE)");
  std::vector<float> q = embed_question(question, &dim);
  const auto hits = index_.search(q.data(), 1, dim, k)[0];
  const int64_t n = int64_t(hits.size());
  const auto t_retrieved = clock::now();

  // Contexts as RagRetriever.postprocess_docs builds them.
  const std::string qtext = question_as_decoded(question);
  const RagSettings& s = model_->settings();
  std::vector<std::string> contexts;
  std::vector<std::vector<uint32_t>> ctx_ids;
  size_t longest = 0;
  for (const auto& h : hits) {
    contexts.push_back(context_string(docs_.docs[size_t(h.index)], qtext));
    Encoding e = gtok_->encode(contexts.back(), true);
    longest = std::max(longest, e.ids.size());
    ctx_ids.push_back(e.ids);
  }
  // Padded to the longest context (transformers pads to max_combined_length; padded keys are
  // masked out of every attention, so the generated tokens and scores are the same).
  const int64_t pad = model_->generate_config().pad_id ? *model_->generate_config().pad_id : 0;
  Tensor ids = Tensor::empty(DType::I64, {n, int64_t(longest)}), mask = Tensor::empty(DType::I64, {n, int64_t(longest)});
  for (int64_t d = 0; d < n; ++d)
    for (size_t t = 0; t < longest; ++t) {
      const bool real = t < ctx_ids[size_t(d)].size();
      ids.i64()[d * int64_t(longest) + int64_t(t)] = real ? int64_t(ctx_ids[size_t(d)][t]) : pad;
      mask.i64()[d * int64_t(longest) + int64_t(t)] = real ? 1 : 0;
    }
  // doc_scores = bmm(question_hidden_states, retrieved_doc_embeds^T), as RagTokenForGeneration.generate.
  Tensor qh = Tensor::from_vector(q, {1, dim});
  Tensor emb = Tensor::f32({1, n, dim});
  for (int64_t d = 0; d < n; ++d)
    std::copy(index_.row(hits[size_t(d)].index), index_.row(hits[size_t(d)].index) + dim, emb.f32() + d * dim);
  Tensor scores = RagModel::doc_scores_from(qh, emb, "rag");

  std::vector<int64_t> answer_ids;
  std::vector<float> tok_lp;  // [n, produced]: log p(answer token t | question, document d, earlier tokens)
  double beam_score = NAN;
  if (num_beams > 1) {
    const RagGeneration& rg = model_->generation();
    BeamSettings b;
    b.num_beams = num_beams;
    b.length_penalty = rg.length_penalty;
    b.early_stopping = early_stopping_from(rg.early_stopping);
    b.num_return_sequences = 1;
    b.max_length = 1 + max_new;
    b.decoder_prompt_len = 1;
    b.eos_ids = model_->generate_config().eos_ids;
    b.pad_id = pad;
    BeamResult r = rag_beam_generate(*model_, ids, &mask, scores, b);
    answer_ids.assign(r.sequences[0].begin() + 1, r.sequences[0].begin() + r.lengths[0]);
    beam_score = r.scores[0];
    tok_lp = teacher_forced_logprobs(ids, mask, scores, answer_ids);
  } else {
    GenerateOptions opts;
    opts.max_new_tokens = max_new;
    opts.return_step_logits = true;
    TensorMap out = model_->generate_from_contexts(ids, &mask, scores, opts);
    const Tensor& seq = out.at("sequences");
    answer_ids.assign(seq.i64() + 1, seq.i64() + seq.dim(1));
    const Tensor& lp = out.at("doc_token_logprobs");  // [1, n, produced]
    tok_lp.assign(lp.f32(), lp.f32() + lp.numel());
  }
  const int64_t produced = int64_t(answer_ids.size());
  std::vector<uint32_t> answer_u32(answer_ids.begin(), answer_ids.end());
  const std::string text = gtok_->decode(answer_u32, true);
  const auto t_generated = clock::now();

  // Source attribution: prior p(d | q) = softmax(doc_scores); posterior p(d | q, answer) ∝ prior · p(answer | q, d).
  std::vector<double> prior(static_cast<size_t>(n)), post(static_cast<size_t>(n));
  double mx = -INFINITY;
  for (int64_t d = 0; d < n; ++d) mx = std::max(mx, double(scores.f32()[d]));
  double z = 0;
  for (int64_t d = 0; d < n; ++d) z += std::exp(double(scores.f32()[d]) - mx);
  double pmx = -INFINITY;
  for (int64_t d = 0; d < n; ++d) {
    prior[size_t(d)] = std::exp(double(scores.f32()[d]) - mx) / z;
    double l = std::log(prior[size_t(d)]);
    for (int64_t t = 0; t < produced; ++t) l += double(tok_lp[size_t(d * produced + t)]);
    post[size_t(d)] = l;
    pmx = std::max(pmx, l);
  }
  double pz = 0;
  for (int64_t d = 0; d < n; ++d) pz += std::exp(post[size_t(d)] - pmx);
  json docs = json::array();
  for (int64_t d = 0; d < n; ++d) {
    const Document& doc = docs_.docs[size_t(hits[size_t(d)].index)];
    docs.push_back({{"rank", d + 1},
                    {"id", doc.id},
                    {"title", doc.title},
                    {"text", doc.text},
                    {"score", scores.f32()[d]},
                    {"probability", prior[size_t(d)]},
                    {"answer_posterior", std::isfinite(pmx) ? std::exp(post[size_t(d)] - pmx) / pz : 0.0}});
  }
  int64_t best = 0;
  for (int64_t d = 1; d < n; ++d)
    if (post[size_t(d)] > post[size_t(best)]) best = d;
  const auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  return {{"question", question},
          {"answer", text},
          {"answer_token_ids", answer_ids},
          {"sequence_score", std::isnan(beam_score) ? json(nullptr) : json(beam_score)},
          {"retrieved_docs", docs},
          {"context_used", contexts},
          {"source", {{"id", docs[size_t(best)]["id"]}, {"title", docs[size_t(best)]["title"]}, {"rank", best + 1}}},
          {"parameters",
           {{"n_docs", k},
            {"num_docs_retrieved", n},
            {"max_new_tokens", max_new},
            {"tokens_generated", produced},
            {"decoding", num_beams > 1 ? "beam search (RAG-token marginalised log-probs)"
                                       : "greedy (RAG-token marginalised log-probs)"},
            {"num_beams", num_beams},
            {"index", "exact-inner-product"},
            {"documents_indexed", index_.size()},
            {"embedding_dim", index_.dim()},
            {"embeddings", encoder_label_},
            {"title_sep", s.title_sep},
            {"doc_sep", s.doc_sep},
            {"max_combined_length", s.max_combined_length}}},
          {"timing", {{"retrieval_seconds", secs(t0, t_retrieved)}, {"generation_seconds", secs(t_retrieved, t_generated)}}}};
}

json RagPipeline::run(const RagRequest& req) {
  try {
    const std::string task = rag_task(req.task);
    IA_CHECK(!req.questions.empty(), "rag: no question (give --input TEXT)");
    IA_CHECK(req.n_docs >= 0, "rag: n_docs must be positive, got ", req.n_docs);
    const int64_t k = req.n_docs > 0 ? req.n_docs : model_->settings().n_docs;
    const GenerateConfig& g = model_->generate_config();
    const int64_t max_new = req.max_new_tokens >= 0 ? req.max_new_tokens
                            : g.max_new_tokens        ? *g.max_new_tokens
                                                      : std::max<int64_t>(g.max_length - 1, 0);
    json items = json::array();
    IA_CHECK(req.num_beams >= 0, "rag: num_beams must be positive, got ", req.num_beams);
    const int64_t beams = req.num_beams > 0 ? req.num_beams : model_->generation().num_beams;
    for (const auto& q : req.questions)
      items.push_back(task == "document-retrieval" ? retrieval(q, k) : answer(q, k, max_new, beams));
    json payload = items.size() == 1 ? items[0] : items;
    return success_result(task == "document-retrieval" ? "rag_retrieval" : "rag_qa", payload);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

}  // namespace ia
