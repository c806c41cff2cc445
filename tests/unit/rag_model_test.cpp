// The RAG architecture template: marginalisation arithmetic against a direct
// double-precision evaluation, forward() input forms, config options
// (do_marginalize, n_docs from doc_scores), and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "formats/safetensors.h"
#include "scratch_dir.h"
#include "templates/encoder_decoder/encdec_model.h"
#include "templates/rag/rag_marginalize.h"
#include "templates/rag/rag_model.h"

namespace fs = std::filesystem;
using namespace ia;

namespace {

const std::string kRag = std::string(IA_FIXTURES_DIR) + "/models/rag/RagTokenForGeneration";

TensorMap reference_inputs() {
  auto ref = SafetensorsFile::open(kRag + "/reference.safetensors");
  TensorMap in;
  for (const char* n : {"question_input_ids", "retrieved_doc_embeds", "context_input_ids", "context_attention_mask",
                        "decoder_input_ids"})
    in[n] = ref->tensor(std::string("forward.in.") + n).clone();
  return in;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, double(std::fabs(a.f32()[i] - b.f32()[i])));
  return m;
}

// A scratch copy of the RAG fixture directory with config.json edited by `edit` (weights
// linked), removed when the returned object goes.
test::ScratchDir edited_copy(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
  test::ScratchDir scratch("rag_" + name);
  const fs::path& dir = scratch.path();
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(kRag + "/config.json"));
  edit(cfg);
  std::ofstream(dir / "config.json") << cfg.dump(1);
  fs::copy_file(kRag + "/generation_config.json", dir / "generation_config.json");
  fs::create_symlink(fs::absolute(kRag + "/model.safetensors"), dir / "model.safetensors");
  return scratch;
}

}  // namespace

TEST(RagMarginalize, MatchesDirectLogSumExp) {
  const int64_t B = 2, n = 3, T = 2, V = 5;
  std::mt19937 rng(7);
  std::normal_distribution<float> N(0.f, 3.f);
  std::vector<float> logits(size_t(B * n * T * V)), scores(size_t(B * n)), out(size_t(B * T * V)), work;
  for (auto& v : logits) v = N(rng);
  for (auto& v : scores) v = N(rng);
  rag_marginalize(logits.data(), scores.data(), B, n, T, V, out.data(), work);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t v = 0; v < V; ++v) {
        // p(v) = sum_d softmax(scores)_d * softmax(logits_d)_v, in doubles.
        double zs = 0, p = 0;
        for (int64_t d = 0; d < n; ++d) zs += std::exp(double(scores[size_t(b * n + d)]));
        for (int64_t d = 0; d < n; ++d) {
          const float* row = logits.data() + ((b * n + d) * T + t) * V;
          double zl = 0;
          for (int64_t j = 0; j < V; ++j) zl += std::exp(double(row[j]));
          p += std::exp(double(scores[size_t(b * n + d)])) / zs * std::exp(double(row[v])) / zl;
        }
        EXPECT_NEAR(out[size_t((b * T + t) * V + v)], std::log(p), 1e-5);
      }
}

TEST(RagMarginalize, SuppressedTokenStaysMinusInfinity) {
  const float ninf = -std::numeric_limits<float>::infinity();
  std::vector<float> logits = {0.f, ninf, 1.f, ninf}, scores = {0.5f, -0.5f}, out(2), work;
  rag_marginalize(logits.data(), scores.data(), 1, 2, 1, 2, out.data(), work);
  EXPECT_EQ(out[1], ninf);
  EXPECT_NEAR(out[0], 0.0, 1e-6);  // token 0 has all the mass in both documents
}

TEST(RagModel, DocScoresInputGivesTheSameLogits) {
  auto m = load_model(kRag);
  TensorMap in = reference_inputs();
  TensorMap a = m->forward(in);
  ASSERT_TRUE(a.count("question_pooler_output"));
  TensorMap in2 = in;
  in2.erase("question_input_ids");
  in2.erase("retrieved_doc_embeds");
  in2["doc_scores"] = a.at("doc_scores");
  TensorMap b = m->forward(in2);
  EXPECT_FALSE(b.count("question_pooler_output"));
  EXPECT_EQ(max_abs_diff(a.at("marginalized_logits"), b.at("marginalized_logits")), 0.0);
  EXPECT_EQ(a.at("logits").shape(), (Shape{2, 4, 128}));  // do_marginalize=false: per document
  EXPECT_EQ(a.at("marginalized_logits").shape(), (Shape{1, 4, 128}));
}

TEST(RagModel, DoMarginalizeReturnsMarginalisedLogits) {
  const test::ScratchDir dir_scratch = edited_copy("marg", [](nlohmann::json& c) { c["do_marginalize"] = true; });
  std::string dir = dir_scratch.str();
  auto m = load_model(dir);
  TensorMap out = m->forward(reference_inputs());
  EXPECT_EQ(out.at("logits").shape(), (Shape{1, 4, 128}));
  EXPECT_EQ(max_abs_diff(out.at("logits"), out.at("marginalized_logits")), 0.0);
}

TEST(RagModel, OneDocumentMarginalisesToItsLogSoftmax) {
  auto m = load_model(kRag);
  TensorMap in = reference_inputs();
  // Only document 0: marginalised = log_softmax(logits of that document).
  Tensor ctx = Tensor::empty(DType::I64, {1, 10}), mask = Tensor::empty(DType::I64, {1, 10});
  std::copy(in["context_input_ids"].i64(), in["context_input_ids"].i64() + 10, ctx.i64());
  std::copy(in["context_attention_mask"].i64(), in["context_attention_mask"].i64() + 10, mask.i64());
  TensorMap one{{"context_input_ids", ctx}, {"context_attention_mask", mask},
                {"decoder_input_ids", in["decoder_input_ids"]}, {"doc_scores", Tensor::from_vector({3.f}, {1, 1})}};
  TensorMap out = m->forward(one);
  Tensor lsm = out.at("logits").clone();
  log_softmax_rows(lsm.f32(), 4, 128);
  EXPECT_LT(max_abs_diff(lsm, out.at("marginalized_logits")), 1e-6);
}

TEST(RagModel, GenerateMatchesTheReference) {
  auto m = load_model(kRag);
  auto ref = SafetensorsFile::open(kRag + "/reference.safetensors");
  GenerateOptions o;
  o.max_new_tokens = 8;
  o.eos_stops = false;
  TensorMap out = m->generate(reference_inputs(), o);
  Tensor want = ref->tensor("generate.out.sequences");
  ASSERT_EQ(out.at("sequences").shape(), want.shape());
  for (int64_t i = 0; i < want.numel(); ++i) EXPECT_EQ(out.at("sequences").i64()[i], want.i64()[i]);
  EXPECT_EQ(out.at("doc_token_logprobs").shape(), (Shape{1, 2, 8}));
}

TEST(RagModel, BadInputsAreClearErrors) {
  auto m = load_model(kRag);
  TensorMap in = reference_inputs();
  TensorMap wrong_rows = in;
  wrong_rows["context_input_ids"] = Tensor::zeros(DType::I64, {3, 10});
  wrong_rows.erase("context_attention_mask");
  try {
    m->forward(wrong_rows);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("batch * n_docs"), std::string::npos) << e.what();
  }
  TensorMap wrong_dim = in;
  wrong_dim["retrieved_doc_embeds"] = Tensor::zeros(DType::F32, {1, 2, 16});
  try {
    m->forward(wrong_dim);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("retrieved_doc_embeds dimension 16"), std::string::npos) << e.what();
  }
  TensorMap no_scores = in;
  no_scores.erase("retrieved_doc_embeds");
  EXPECT_THROW(m->forward(no_scores), Error);
  TensorMap bad_id = in;
  bad_id["context_input_ids"] = bad_id["context_input_ids"].clone();
  bad_id["context_input_ids"].i64()[3] = 500;
  GenerateOptions o;
  o.max_new_tokens = 2;
  EXPECT_THROW(m->generate(bad_id, o), Error);
}

TEST(RagModel, ConfigWithoutGeneratorIsAnError) {
  const test::ScratchDir dir_scratch = edited_copy("nogen", [](nlohmann::json& c) { c.erase("generator"); });
  std::string dir = dir_scratch.str();
  try {
    load_model(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("generator"), std::string::npos) << e.what();
  }
}

// RagSequenceForGeneration: the answer is the per-document greedy candidate with the lowest
// RAG-sequence NLL (get_nll, exclude_bos_score): recomputed here from the per-document logits.
TEST(RagSequence, PicksTheCandidateWithTheLowestNll) {
  const test::ScratchDir dir_scratch = edited_copy("seq", [](nlohmann::json& c) { c["architectures"] = {"RagSequenceForGeneration"}; });
  std::string dir = dir_scratch.str();
  auto owner = load_model(dir);
  auto* m = dynamic_cast<RagModel*>(owner.get());
  ASSERT_NE(m, nullptr);
  TensorMap in = reference_inputs();
  in.erase("decoder_input_ids");
  GenerateOptions o;
  o.max_new_tokens = 5;
  o.eos_stops = false;
  TensorMap out = m->generate(in, o);
  const Tensor& seq = out.at("sequences");
  ASSERT_EQ(seq.dim(0), 1);
  ASSERT_EQ(seq.dim(1), 6);
  Tensor scores = m->forward(in).at("doc_scores");
  // Candidates: the generator's greedy decoding of each context (mask inferred from pad = 1).
  Tensor ctx = in["context_input_ids"];
  TensorMap cands = m->generator().generate({{"input_ids", ctx}}, o);
  const Tensor& cs = cands.at("sequences");  // [2, 6]
  std::vector<double> nll;
  for (int64_t c = 0; c < 2; ++c) {
    Tensor dec = Tensor::empty(DType::I64, {1, 6});
    std::copy(cs.i64() + c * 6, cs.i64() + c * 6 + 6, dec.i64());
    TensorMap f = m->forward({{"context_input_ids", ctx}, {"context_attention_mask", in["context_attention_mask"]},
                              {"decoder_input_ids", dec}, {"doc_scores", scores}});
    Tensor lp = f.at("doc_logits").clone();  // [2, 6, V]
    const int64_t V = lp.dim(2);
    log_softmax_rows(lp.f32(), 12, V);
    const double s0 = scores.f32()[0], s1 = scores.f32()[1], mx = std::max(s0, s1);
    const double lz = mx + std::log(std::exp(s0 - mx) + std::exp(s1 - mx));
    std::vector<double> per_doc;
    for (int64_t d = 0; d < 2; ++d) {
      double s = 0;
      for (int64_t t = 0; t < 6; ++t) {
        const int64_t target = t + 1 < 6 ? dec.i64()[t + 1] : 1;  // shifted left, pad (1) appended
        if (target == 1) continue;
        if (t == 0 && dec.i64()[1] == 0) continue;  // exclude_bos_score when the first target is bos (0)
        s += lp.f32()[(d * 6 + t) * V + target] + (t == 1 ? scores.f32()[d] - lz : 0.0);
      }
      per_doc.push_back(s);
    }
    const double m2 = std::max(per_doc[0], per_doc[1]);
    nll.push_back(-(m2 + std::log(std::exp(per_doc[0] - m2) + std::exp(per_doc[1] - m2))));
  }
  const int64_t best = nll[1] < nll[0] ? 1 : 0;
  for (int64_t t = 0; t < 6; ++t) EXPECT_EQ(seq.i64()[t], cs.i64()[best * 6 + t]) << t;
}
