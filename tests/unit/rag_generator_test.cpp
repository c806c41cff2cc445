// RAG with generators and question encoders assembled from other bundled fixtures:
// a T5 generator (tied and untied heads) and the DPR question encoder fixture are
// written into one RagTokenForGeneration checkpoint ("rag.generator.*",
// "rag.question_encoder.*") with no generation_config.json, so the generation
// config comes from RagConfig + the generator sub-config (decoder_start_token_id 0).
// With one document RAG-token decoding is the generator's own greedy decoding over
// log_softmax(logits): checked against the T5 fixtures' transformers references.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/checkpoint.h"
#include "formats/safetensors.h"
#include "pipelines/rag_beam.h"
#include "pipelines/text2text_pipeline.h"
#include "templates/encoder_decoder/encdec_model.h"
#include "templates/rag/rag_marginalize.h"
#include "scratch_dir.h"
#include "templates/rag/rag_model.h"

namespace fs = std::filesystem;
using namespace ia;
using json = nlohmann::json;

namespace {

const std::string kModels = std::string(IA_FIXTURES_DIR) + "/models";

// A RAG checkpoint from a T5 fixture (generator) and the DPR question encoder fixture, in
// a scratch directory removed when the returned object goes.
test::ScratchDir make_rag(const std::string& t5, int64_t n_docs, const std::string& tag) {
  test::ScratchDir scratch("rag_gen_" + tag);
  const fs::path& dir = scratch.path();
  const std::string qdir = kModels + "/dpr/DPRQuestionEncoder", gdir = kModels + "/t5/" + t5;
  json q = json::parse(std::ifstream(qdir + "/config.json")), g = json::parse(std::ifstream(gdir + "/config.json"));
  q.erase("architectures");
  g.erase("architectures");
  json cfg = {{"model_type", "rag"}, {"architectures", {"RagTokenForGeneration"}}, {"is_encoder_decoder", true},
              {"n_docs", n_docs}, {"question_encoder", q}, {"generator", g}};
  std::ofstream(dir / "config.json") << cfg.dump(1);
  std::vector<std::pair<std::string, Tensor>> tensors;
  auto qc = Checkpoint::open_dir(qdir), gc = Checkpoint::open_dir(gdir);
  for (const auto& n : qc->names()) tensors.push_back({"rag.question_encoder." + n, qc->get(n).clone()});
  for (const auto& n : gc->names()) tensors.push_back({"rag.generator." + n, gc->get(n).clone()});
  write_safetensors((dir / "model.safetensors").string(), tensors);
  return scratch;
}

class RagT5 : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(RagT5, PerDocumentLogitsAreTheGeneratorsLogits) {
  const std::string gdir = kModels + "/t5/" + GetParam();
  const test::ScratchDir dir_scratch = make_rag(GetParam(), 2, "fwd");
  std::string dir = dir_scratch.str();
  auto rag = load_model(dir);
  auto t5 = load_model(gdir);
  auto ref = SafetensorsFile::open(gdir + "/reference.safetensors");
  Tensor ids = ref->tensor("forward.in.input_ids"), mask = ref->tensor("forward.in.attention_mask");
  Tensor dec = ref->tensor("forward.in.decoder_input_ids");  // [2, 5]; RAG takes row 0 for its one question
  Tensor dec0 = Tensor::empty(DType::I64, {1, dec.dim(1)}), dec00 = Tensor::empty(DType::I64, {2, dec.dim(1)});
  for (int64_t t = 0; t < dec.dim(1); ++t) dec0.i64()[t] = dec00.i64()[t] = dec00.i64()[dec.dim(1) + t] = dec.i64()[t];
  TensorMap out = rag->forward({{"context_input_ids", ids}, {"context_attention_mask", mask}, {"decoder_input_ids", dec0},
                                {"doc_scores", Tensor::from_vector({0.25f, -1.5f}, {1, 2})}});
  TensorMap want = t5->forward({{"input_ids", ids}, {"attention_mask", mask}, {"decoder_input_ids", dec00}});
  const Tensor& a = out.at("logits");
  const Tensor& b = want.at("logits");
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_NEAR(a.f32()[i], b.f32()[i], 1e-5) << i;
  // And the marginalisation of those two documents, directly.
  Tensor m = Tensor::f32({1, dec.dim(1), a.dim(2)});
  std::vector<float> work;
  rag_marginalize(b.f32(), std::vector<float>{0.25f, -1.5f}.data(), 1, 2, dec.dim(1), a.dim(2), m.f32(), work);
  for (int64_t i = 0; i < m.numel(); ++i) ASSERT_NEAR(out.at("marginalized_logits").f32()[i], m.f32()[i], 1e-5);
}

TEST_P(RagT5, OneDocumentDecodesAsTransformersT5) {
  const std::string gdir = kModels + "/t5/" + GetParam();
  const test::ScratchDir dir_scratch = make_rag(GetParam(), 1, "gen");
  std::string dir = dir_scratch.str();
  auto rag = load_model(dir);
  auto ref = SafetensorsFile::open(gdir + "/reference.safetensors");
  json rj = json::parse(std::ifstream(gdir + "/reference.json"));
  GenerateOptions o;
  o.max_new_tokens = 8;
  o.eos_stops = false;
  TensorMap out = rag->generate({{"context_input_ids", ref->tensor("generate.in.input_ids")},
                                 {"context_attention_mask", ref->tensor("generate.in.attention_mask")},
                                 {"doc_scores", Tensor::from_vector({2.f}, {1, 1})}},
                                o);
  const Tensor& seq = out.at("sequences");
  ASSERT_EQ(seq.dim(1), 9);
  EXPECT_EQ(seq.i64()[0], 0);  // decoder_start_token_id from the generator sub-config
  json want_ids;
  for (const auto& c : rj["cases"])
    if (c["name"] == "generate") want_ids = c["generation"]["new_token_ids"][0];
  for (int64_t t = 0; t < 8; ++t) EXPECT_EQ(seq.i64()[t + 1], want_ids[size_t(t)].get<int64_t>()) << t;
  // Marginalised step log-probs over one document = log_softmax of transformers' step logits.
  Tensor want = ref->tensor("generate.out.step_logits").clone();  // [1, 8, V]
  log_softmax_rows(want.f32(), 8, want.dim(2));
  const Tensor& got = out.at("step_logits");
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < got.numel(); ++i) ASSERT_NEAR(got.f32()[i], want.f32()[i], 2e-4) << i;
}

INSTANTIATE_TEST_SUITE_P(Generators, RagT5,
                         ::testing::Values("T5ForConditionalGeneration", "T5ForConditionalGeneration-v1_1-gated-gelu"),
                         [](const auto& info) { return info.param == "T5ForConditionalGeneration" ? std::string("tied")
                                                                                                 : std::string("gated_untied"); });

// RAG-token beam search with one document is the generator's beam search over
// log_softmax(log_softmax(logits)) = log_softmax(logits): the same beams and scores as the
// encoder-decoder beam search (itself checked against transformers in tests/fixtures/beam_search).
TEST_P(RagT5, OneDocumentBeamSearchIsTheGeneratorsBeamSearch) {
  const std::string gdir = kModels + "/t5/" + GetParam();
  const test::ScratchDir dir_scratch = make_rag(GetParam(), 1, "beam");
  std::string dir = dir_scratch.str();
  auto rag_owner = load_model(dir);
  auto* rag = dynamic_cast<RagModel*>(rag_owner.get());
  ASSERT_NE(rag, nullptr);
  auto t5_owner = load_model(gdir);
  auto* t5 = dynamic_cast<EncDecModel*>(t5_owner.get());
  ASSERT_NE(t5, nullptr);
  auto ref = SafetensorsFile::open(gdir + "/reference.safetensors");
  Tensor ids = ref->tensor("generate.in.input_ids");
  BeamSettings b;
  b.num_beams = 3;
  b.max_length = 1 + 6;
  b.eos_ids = {1};
  b.pad_id = 0;
  BeamResult got = rag_beam_generate(*rag, ids, nullptr, Tensor::from_vector({0.5f}, {1, 1}), b);
  std::vector<int64_t> source(ids.i64(), ids.i64() + ids.numel());
  BeamResult want = beam_generate(*t5, source, b, t5->generate_config());
  ASSERT_EQ(got.sequences.size(), want.sequences.size());
  EXPECT_EQ(got.sequences[0], want.sequences[0]);
  EXPECT_NEAR(got.scores[0], want.scores[0], 1e-4);
}

// Two documents, three beams, EOS disabled: the best beam's score must be the sum of its
// tokens' marginalised log-probs (teacher-forced forward, no cache) over its length; a wrong
// cache reorder or doc/beam layout breaks this.
TEST(RagBeam, BestBeamScoreIsItsTeacherForcedLogProb) {
  const std::string kRag = kModels + "/rag/RagTokenForGeneration";
  auto owner = load_model(kRag);
  auto* rag = dynamic_cast<RagModel*>(owner.get());
  auto ref = SafetensorsFile::open(kRag + "/reference.safetensors");
  Tensor ctx = ref->tensor("forward.in.context_input_ids"), mask = ref->tensor("forward.in.context_attention_mask");
  Tensor scores = Tensor::from_vector({0.3f, -0.4f}, {1, 2});
  BeamSettings b;
  b.num_beams = 3;
  b.max_length = 9;
  b.eos_ids = {};
  BeamResult r = rag_beam_generate(*rag, ctx, &mask, scores, b);
  const std::vector<int64_t>& seq = r.sequences[0];
  ASSERT_EQ(seq.size(), 9u);
  EXPECT_EQ(seq[0], 2);  // decoder_start_token_id
  Tensor dec = Tensor::empty(DType::I64, {1, 8});
  for (int64_t t = 0; t < 8; ++t) dec.i64()[t] = seq[size_t(t)];
  TensorMap out = rag->forward({{"context_input_ids", ctx}, {"context_attention_mask", mask},
                                {"decoder_input_ids", dec}, {"doc_scores", scores}});
  const Tensor& m = out.at("marginalized_logits");  // [1, 8, V]
  double sum = 0;
  for (int64_t t = 0; t < 8; ++t) sum += m.f32()[t * m.dim(2) + seq[size_t(t + 1)]];
  EXPECT_NEAR(r.scores[0], sum / 8.0, 1e-4);
  // Greedy decoding's path can never beat the best beam found with 3 beams here by more than rounding.
  GenerateOptions o;
  o.max_new_tokens = 8;
  o.eos_stops = false;
  TensorMap g = rag->generate_from_contexts(ctx, &mask, scores, o);
  double greedy = 0;
  for (int64_t t = 0; t < 8; ++t) greedy += g.at("step_logits").f32()[t * m.dim(2) + g.at("sequences").i64()[t + 1]];
  EXPECT_GE(r.scores[0] + 1e-5, greedy / 8.0);
}
