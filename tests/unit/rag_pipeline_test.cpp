// The rag pipeline on a tiny bundled document set (tests/fixtures/rag_pipeline):
// document embeddings, question embeddings, scores, ranking and context strings are
// checked against transformers' DPR code (reference.json, made by make_fixture.py);
// the result JSON keys, attribution sums, and bad inputs (missing docs file, embedding
// dimension mismatch, malformed documents, unknown task) are checked too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "pipelines/rag_pipeline.h"
#include "scratch_dir.h"
#include "tokenizers/tokenizer.h"
#include "templates/rag/rag_model.h"

namespace fs = std::filesystem;
using namespace ia;
using json = nlohmann::json;

namespace {

const std::string kDir = std::string(IA_FIXTURES_DIR) + "/rag_pipeline";
const std::string kRag = kDir + "/rag_model";
const std::string kDocs = kDir + "/docs.jsonl";
const std::string kCtx = std::string(IA_FIXTURES_DIR) + "/models/dpr/DPRContextEncoder";

const json& reference() {
  static const json r = json::parse(std::ifstream(kDir + "/reference.json"));
  return r;
}

RagPipeline& indexed_pipeline() {
  static RagPipeline* p = [] {
    auto* q = new RagPipeline(kRag);
    q->index_documents(kDocs, kCtx);
    return q;
  }();
  return *p;
}

}  // namespace

TEST(RagPipeline, DocumentEmbeddingsMatchTransformersDpr) {
  RagPipeline& p = indexed_pipeline();
  const json& ref = reference();
  ASSERT_EQ(p.index().size(), int64_t(ref["documents"].size()));
  ASSERT_EQ(p.index().dim(), 32);
  for (size_t i = 0; i < ref["documents"].size(); ++i) {
    EXPECT_EQ(p.documents().docs[i].id, ref["documents"][i].get<std::string>());
    for (int64_t h = 0; h < 32; ++h)
      EXPECT_NEAR(p.index().row(int64_t(i))[h], ref["doc_embeddings"][i][size_t(h)].get<float>(), 1e-4) << i << "," << h;
  }
}

TEST(RagPipeline, RankingScoresAndContextsMatchTheReference) {
  RagPipeline& p = indexed_pipeline();
  for (const auto& q : reference()["questions"]) {
    const std::string question = q["question"];
    int64_t dim = 0;
    std::vector<float> e = p.embed_question(question, &dim);
    ASSERT_EQ(dim, 32);
    for (int64_t h = 0; h < 32; ++h) EXPECT_NEAR(e[size_t(h)], q["question_embedding"][size_t(h)].get<float>(), 1e-4);
    auto hits = p.retrieve(question, 8);
    ASSERT_EQ(hits.size(), 8u);
    for (size_t r = 0; r < hits.size(); ++r) {
      EXPECT_EQ(p.documents().docs[size_t(hits[r].index)].id, q["ranking"][r].get<std::string>()) << question << " rank " << r;
      EXPECT_NEAR(hits[r].score, q["scores"][size_t(hits[r].index)].get<float>(), 1e-4);
      if (r > 0) EXPECT_GE(hits[r - 1].score, hits[r].score);
    }
    EXPECT_EQ(p.question_as_decoded(question), q["decoded_question"].get<std::string>());
    for (size_t r = 0; r < q["contexts"].size(); ++r)
      EXPECT_EQ(p.context_string(p.documents().docs[size_t(hits[r].index)], q["decoded_question"]),
                q["contexts"][r].get<std::string>());
  }
}

TEST(RagPipeline, QaResultKeysScoresAndAttribution) {
  RagPipeline& p = indexed_pipeline();
  RagRequest r;
  r.task = "generative-qa";
  r.questions = {"Who created Python?"};
  r.max_new_tokens = 5;
  json out = p.run(r);
  ASSERT_TRUE(out["success"].get<bool>()) << out.dump();
  ASSERT_TRUE(out.contains("rag_qa"));
  EXPECT_EQ(out["device"], "cpu");
  EXPECT_TRUE(out.contains("hardware"));
  const json& qa = out["rag_qa"];
  for (const char* k : {"question", "answer", "retrieved_docs", "context_used", "parameters", "source"})
    EXPECT_TRUE(qa.contains(k)) << k;
  const json& q = reference()["questions"][1];
  ASSERT_EQ(qa["retrieved_docs"].size(), 2u);  // config n_docs
  double prior = 0, post = 0;
  for (size_t i = 0; i < 2; ++i) {
    const json& d = qa["retrieved_docs"][i];
    EXPECT_EQ(d["id"], q["ranking"][i]);
    for (const char* k : {"title", "text", "score", "probability", "answer_posterior", "rank"}) EXPECT_TRUE(d.contains(k)) << k;
    prior += d["probability"].get<double>();
    post += d["answer_posterior"].get<double>();
  }
  EXPECT_NEAR(prior, 1.0, 1e-9);
  EXPECT_NEAR(post, 1.0, 1e-9);
  EXPECT_EQ(qa["context_used"], q["contexts"]);
  EXPECT_LE(qa["answer_token_ids"].size(), 5u);
  EXPECT_GE(qa["answer_token_ids"].size(), 1u);
}

TEST(RagPipeline, AnswerEqualsRagTokenGenerateOnTheSameContexts) {
  // The pipeline's answer must be exactly what RagTokenForGeneration.generate produces from
  // the packed contexts and doc_scores (checked against transformers by `verify`).
  RagPipeline& p = indexed_pipeline();
  RagRequest r;
  r.questions = {"Where is the Eiffel tower?"};
  r.max_new_tokens = 6;
  json qa = p.run(r)["rag_qa"];
  ASSERT_FALSE(qa.is_null());
  // Rebuild the inputs independently: generator ids from the reference context strings.
  Tokenizer gt = Tokenizer::from_dir(kRag + "/generator_tokenizer");
  const json& q = reference()["questions"][0];
  std::vector<std::vector<uint32_t>> ids;
  size_t longest = 0;
  for (const auto& c : q["contexts"]) {
    ids.push_back(gt.encode(c.get<std::string>(), true).ids);
    longest = std::max(longest, ids.back().size());
  }
  const int64_t n = int64_t(ids.size());
  Tensor ctx = Tensor::empty(DType::I64, {n, int64_t(longest)}), mask = Tensor::empty(DType::I64, {n, int64_t(longest)});
  for (int64_t d = 0; d < n; ++d)
    for (size_t t = 0; t < longest; ++t) {
      ctx.i64()[d * int64_t(longest) + int64_t(t)] = t < ids[size_t(d)].size() ? ids[size_t(d)][t] : 1;
      mask.i64()[d * int64_t(longest) + int64_t(t)] = t < ids[size_t(d)].size();
    }
  std::vector<float> scores;
  for (int64_t d = 0; d < n; ++d) scores.push_back(qa["retrieved_docs"][size_t(d)]["score"].get<float>());
  GenerateOptions o;
  o.max_new_tokens = 6;
  TensorMap out = p.model().generate_from_contexts(ctx, &mask, Tensor::from_vector(scores, {1, n}), o);
  const Tensor& seq = out.at("sequences");
  ASSERT_EQ(size_t(seq.dim(1) - 1), qa["answer_token_ids"].size());
  for (int64_t t = 1; t < seq.dim(1); ++t) EXPECT_EQ(seq.i64()[t], qa["answer_token_ids"][size_t(t - 1)].get<int64_t>());
}

TEST(RagPipeline, DocumentRetrievalTaskAndNDocs) {
  RagPipeline& p = indexed_pipeline();
  RagRequest r;
  r.task = "document-retrieval";
  r.questions = {"What is the largest ocean?"};
  r.n_docs = 3;
  json out = p.run(r);
  ASSERT_TRUE(out["success"].get<bool>()) << out.dump();
  const json& rr = out["rag_retrieval"];
  EXPECT_EQ(rr["num_docs_requested"], 3);
  EXPECT_EQ(rr["num_docs_retrieved"], 3);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(rr["retrieved_docs"][i]["id"], reference()["questions"][2]["ranking"][i]);
  r.n_docs = 50;  // more than the collection holds: all of them, reported honestly
  json all = p.run(r);
  EXPECT_EQ(all["rag_retrieval"]["num_docs_requested"], 50);
  EXPECT_EQ(all["rag_retrieval"]["num_docs_retrieved"], 8);
}

TEST(RagPipeline, PrecomputedEmbeddingsGiveTheSameRanking) {
  const test::ScratchDir scratch;
  std::string text;
  const json& ref = reference();
  std::ifstream in(kDocs);
  std::string line;
  for (size_t i = 0; std::getline(in, line); ++i) {
    json d = json::parse(line);
    d["embedding"] = ref["doc_embeddings"][i];
    text += d.dump() + "\n";
  }
  std::string path = scratch.write("emb.jsonl", text);
  RagPipeline p(kRag);
  p.index_documents(path, "");  // no context encoder needed
  auto hits = p.retrieve("Who created Python?", 8);
  for (size_t r = 0; r < hits.size(); ++r)
    EXPECT_EQ(p.documents().docs[size_t(hits[r].index)].id, ref["questions"][1]["ranking"][r].get<std::string>());
}

TEST(RagPipeline, BadInputsAreClearErrors) {
  const test::ScratchDir scratch;
  RagRequest r;
  r.questions = {"Who created Python?"};
  json missing = run_rag_pipeline(kRag, kDir + "/no_such_docs.jsonl", kCtx, r);
  EXPECT_FALSE(missing["success"].get<bool>());
  EXPECT_NE(missing["error"].get<std::string>().find("no_such_docs.jsonl"), std::string::npos) << missing.dump();

  std::string small = scratch.write("dim.jsonl", "{\"title\": \"a\", \"text\": \"b\", \"embedding\": [1, 2, 3]}\n");
  json dim = run_rag_pipeline(kRag, small, "", r);
  EXPECT_FALSE(dim["success"].get<bool>());
  EXPECT_NE(dim["error"].get<std::string>().find("dimension 3 does not match"), std::string::npos) << dim.dump();

  std::string no_text = scratch.write("notext.jsonl", "{\"title\": \"a\"}\n");
  json nt = run_rag_pipeline(kRag, no_text, kCtx, r);
  EXPECT_FALSE(nt["success"].get<bool>());
  EXPECT_NE(nt["error"].get<std::string>().find("line 1: missing string field 'text'"), std::string::npos) << nt.dump();

  std::string broken = scratch.write("broken.jsonl", "{\"title\": \"a\", \"text\": \"b\"}\n{not json\n");
  json br = run_rag_pipeline(kRag, broken, kCtx, r);
  EXPECT_FALSE(br["success"].get<bool>());
  EXPECT_NE(br["error"].get<std::string>().find("line 2"), std::string::npos) << br.dump();

  json no_encoder = run_rag_pipeline(kRag, kDocs, "", r);
  EXPECT_FALSE(no_encoder["success"].get<bool>());
  EXPECT_NE(no_encoder["error"].get<std::string>().find("--context-encoder"), std::string::npos);

  RagRequest bad_task = r;
  bad_task.task = "fill-mask";
  json bt = run_rag_pipeline(kRag, kDocs, kCtx, bad_task);
  EXPECT_FALSE(bt["success"].get<bool>());
  EXPECT_NE(bt["error"].get<std::string>().find("not a rag task"), std::string::npos);

  // A RAG directory without its tokenizers.
  json no_tok = run_rag_pipeline(std::string(IA_FIXTURES_DIR) + "/models/rag/RagTokenForGeneration", kDocs, kCtx, r);
  EXPECT_FALSE(no_tok["success"].get<bool>());
  EXPECT_NE(no_tok["error"].get<std::string>().find("question_encoder_tokenizer"), std::string::npos) << no_tok.dump();
}

TEST(RagPipeline, CliRunsTheRagTask) {
  std::string cmd = std::string(IA_CLI_PATH) + " run " + kRag + " --task rag --input 'Who created Python?' --docs " +
                    kDocs + " --context-encoder " + kCtx + " --n-docs 2 --max-new-tokens 3 --json";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string text;
  char buf[4096];
  while (size_t k = fread(buf, 1, sizeof buf, f)) text.append(buf, k);
  EXPECT_EQ(pclose(f), 0) << text;
  json j = json::parse(text);
  ASSERT_TRUE(j["success"].get<bool>()) << text;
  EXPECT_EQ(j["rag_qa"]["retrieved_docs"][0]["id"], reference()["questions"][1]["ranking"][0]);
  EXPECT_LE(j["rag_qa"]["answer_token_ids"].size(), 3u);
}

TEST(RagPipeline, BeamSearchAnswersWithAttribution) {
  RagPipeline& p = indexed_pipeline();
  RagRequest r;
  r.questions = {"Who created Python?"};
  r.max_new_tokens = 4;
  r.num_beams = 3;
  json out = p.run(r);
  ASSERT_TRUE(out["success"].get<bool>()) << out.dump();
  const json& qa = out["rag_qa"];
  EXPECT_EQ(qa["parameters"]["num_beams"], 3);
  EXPECT_TRUE(qa["sequence_score"].is_number());
  EXPECT_GE(qa["answer_token_ids"].size(), 1u);
  double post = 0;
  for (const auto& d : qa["retrieved_docs"]) post += d["answer_posterior"].get<double>();
  EXPECT_NEAR(post, 1.0, 1e-9);
}

TEST(RagPipeline, RootTokenizerServesBothSides) {
  // A RAG directory with one tokenizer.json (shared vocabulary) instead of the two subfolders.
  const test::ScratchDir scratch("roottok");
  const fs::path& dir = scratch.path();
  for (const char* f : {"config.json", "generation_config.json"}) fs::copy_file(kRag + "/" + f, dir / f);
  fs::create_symlink(fs::canonical(kRag + "/model.safetensors"), dir / "model.safetensors");
  fs::copy_file(kRag + "/question_encoder_tokenizer/tokenizer.json", dir / "tokenizer.json");
  RagPipeline p(dir.string());
  p.index_documents(kDocs, kCtx);
  auto hits = p.retrieve("Who created Python?", 3);
  for (size_t r = 0; r < hits.size(); ++r)
    EXPECT_EQ(p.documents().docs[size_t(hits[r].index)].id, reference()["questions"][1]["ranking"][r].get<std::string>());
}
