// Invariants and error paths of the encoder-only template that reference
// fixtures cannot show: padding invariance, options switched by editing a
// fixture's config.json in a temp dir, clear errors for bad checkpoints/inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>

#include "core/error.h"
#include "formats/checkpoint.h"
#include "parts/relative_position.h"
#include "formats/safetensors.h"
#include "templates/encoder_only/encoder_only.h"
#include "templates/model.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

fs::path fixture(const std::string& rel) { return fs::path(IA_FIXTURES_DIR) / rel; }

// A copy of a fixture's checkpoint (config.json + model.safetensors) with config edits applied.
class TempModel {
 public:
  TempModel(const std::string& rel, const json& patch) : scratch_("encoder"), dir_(scratch_.path()) {
    fs::copy_file(fixture(rel) / "model.safetensors", dir_ / "model.safetensors");
    std::ifstream in(fixture(rel) / "config.json");
    json cfg = json::parse(in);
    cfg.merge_patch(patch);
    std::ofstream(dir_ / "config.json") << cfg.dump(1);
  }
  std::string dir() const { return dir_.string(); }

 private:
  ia::test::ScratchDir scratch_;  // removed with the object
  fs::path dir_;
};

std::string load_error(const std::string& dir) {
  try {
    load_model(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Deterministic ids in [1, vocab) that avoid `pad`.
Tensor ids_tensor(int64_t B, int64_t T, int64_t vocab, int64_t pad) {
  std::vector<int64_t> v(size_t(B * T));
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t id = int64_t((i * 37 + 11) % size_t(vocab));
    v[i] = id == pad ? (id + 1) % vocab : id;
  }
  return Tensor::from_vector_i64(v, {B, T});
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, double(std::fabs(a.f32()[i] - b.f32()[i])));
  return m;
}

bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.f32()[i])) return false;
  return true;
}

}  // namespace

// A right-padded row must give, at its real positions, what the same tokens give unpadded.
TEST(EncoderOptions, PaddedRowEqualsUnpaddedRun) {
  const char* dirs[] = {"models/bert/BertModel",         "models/roberta/RobertaModel",
                        "models/albert/AlbertModel",     "models/distilbert/DistilBertModel",
                        "models/electra/ElectraModel",   "models/deberta-v2/DebertaV2Model",
                        "encoder_variants/bert/BertModel-relative_key",
                        "encoder_variants/deberta-v2/DebertaV2ForTokenClassification-buckets8-lnrel"};
  for (const char* rel : dirs) {
    SCOPED_TRACE(rel);
    auto model = load_model(fixture(rel).string());
    const json d = model->describe();
    const int64_t vocab = d["sizes"]["vocab"], H = d["sizes"]["hidden"];
    std::ifstream in(fixture(rel) / "config.json");
    const int64_t pad = json::parse(in).value("pad_token_id", 0);
    const int64_t T = 8, valid = 5;
    Tensor ids = ids_tensor(2, T, vocab, pad);
    std::vector<int64_t> mask(size_t(2 * T), 1);
    for (int64_t t = valid; t < T; ++t) {
      mask[size_t(T + t)] = 0;
      ids.i64()[T + t] = pad;
    }
    TensorMap batch{{"input_ids", ids}, {"attention_mask", Tensor::from_vector_i64(mask, {2, T})}};
    Tensor padded = model->forward(batch).at("last_hidden_state");

    std::vector<int64_t> row(ids.i64() + T, ids.i64() + T + valid);
    TensorMap single{{"input_ids", Tensor::from_vector_i64(row, {1, valid})}};
    Tensor alone = model->forward(single).at("last_hidden_state");
    double worst = 0;
    for (int64_t i = 0; i < valid * H; ++i)
      worst = std::max(worst, double(std::fabs(padded.f32()[T * H + i] - alone.f32()[i])));
    EXPECT_LT(worst, 1e-4);
    EXPECT_TRUE(all_finite(padded));
  }
}

// TF-converted checkpoints name LayerNorm parameters gamma / beta; transformers renames them on load.
TEST(EncoderOptions, GammaBetaLayerNormNamesLoad) {
  const std::string rel = "models/bert/BertForMaskedLM";
  TempModel tmp(rel, json::object());
  auto ck = Checkpoint::open_dir(fixture(rel).string());
  json header = json::object();
  std::string data;
  for (const std::string& name : ck->names()) {
    Tensor t = ck->get(name).to_f32();
    std::string out = name;
    const std::string w = "LayerNorm.weight", b = "LayerNorm.bias";
    if (out.size() > w.size() && out.compare(out.size() - w.size(), w.size(), w) == 0)
      out.replace(out.size() - 6, 6, "gamma");
    else if (out.size() > b.size() && out.compare(out.size() - b.size(), b.size(), b) == 0)
      out.replace(out.size() - 4, 4, "beta");
    header[out] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {data.size(), data.size() + t.nbytes()}}};
    data.append(static_cast<const char*>(t.raw()), t.nbytes());
  }
  std::string h = header.dump();
  const uint64_t n = h.size();
  std::ofstream f(fs::path(tmp.dir()) / "model.safetensors", std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << h << data;
  f.close();
  ASSERT_FALSE(Checkpoint::open_dir(tmp.dir())->has("bert.embeddings.LayerNorm.weight"));
  TensorMap in{{"input_ids", ids_tensor(2, 8, 128, 0)}};
  Tensor ref = load_model(fixture(rel).string())->forward(in).at("logits");
  Tensor got = load_model(tmp.dir())->forward(in).at("logits");
  EXPECT_EQ(max_abs_diff(got, ref), 0.0);
}

// Composite models reuse the template on a sub-config: RAG's DPR question encoder reproduces the
// question_pooler_output recorded in the RAG fixture.
TEST(EncoderOptions, BuildsRagQuestionEncoderFromSubConfig) {
  const fs::path dir = fixture("models/rag/RagTokenForGeneration");
  ModelContext rag = ModelContext::open(dir.string());
  ModelContext ctx;
  ctx.dir = rag.dir;
  ctx.config = HFConfig::from_json(rag.config.raw()["question_encoder"], rag.config.label() + " [question_encoder]");
  ctx.model_type = ctx.config.get_string("model_type");
  ctx.checkpoint = Checkpoint::open_dir(dir.string());
  auto enc = build_encoder_only(ctx, "rag.question_encoder", "DPRQuestionEncoder");
  EXPECT_EQ(enc->describe()["weight_prefix"], "rag.question_encoder.question_encoder.bert_model");
  auto ref = SafetensorsFile::open((dir / "reference.safetensors").string());
  Tensor got = enc->forward({{"input_ids", ref->tensor("forward.in.question_input_ids")}}).at("pooler_output");
  Tensor want = ref->tensor("forward.out.question_pooler_output");
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_LT(max_abs_diff(got, want.to_f32()), 1e-4);
}

// An all-padding row must not turn into NaN: transformers averages the values uniformly (BERT family)
// or zeroes the context (DeBERTa); both stay finite and leave the other rows untouched.
TEST(EncoderOptions, FullyMaskedRowStaysFiniteAndIsolated) {
  for (const char* rel : {"models/bert/BertModel", "models/deberta-v2/DebertaV2Model", "models/distilbert/DistilBertModel"}) {
    SCOPED_TRACE(rel);
    auto m = load_model(fixture(rel).string());
    const int64_t H = m->describe()["sizes"]["hidden"];
    Tensor ids = ids_tensor(2, 6, 128, 0);
    std::vector<int64_t> mask(12, 1);
    for (int i = 6; i < 12; ++i) mask[size_t(i)] = 0;
    Tensor out = m->forward({{"input_ids", ids}, {"attention_mask", Tensor::from_vector_i64(mask, {2, 6})}})
                     .at("last_hidden_state");
    EXPECT_TRUE(all_finite(out));
    std::vector<int64_t> row0(ids.i64(), ids.i64() + 6);
    Tensor alone = m->forward({{"input_ids", Tensor::from_vector_i64(row0, {1, 6})}}).at("last_hidden_state");
    double worst = 0;
    for (int64_t i = 0; i < 6 * H; ++i) worst = std::max(worst, double(std::fabs(out.f32()[i] - alone.f32()[i])));
    EXPECT_LT(worst, 1e-5);
  }
}

// Switching position_embedding_type on the same weights changes the function and stays finite.
TEST(EncoderOptions, PositionEmbeddingTypeIsHonoured) {
  const std::string rel = "encoder_variants/bert/BertModel-relative_key";
  auto base = load_model(fixture(rel).string());
  const int64_t T = 10;
  TensorMap in{{"input_ids", ids_tensor(2, T, 64, 0)}};
  Tensor ref = base->forward(in).at("last_hidden_state");
  for (const char* kind : {"relative_key_query", "absolute"}) {
    SCOPED_TRACE(kind);
    TempModel tmp(rel, {{"position_embedding_type", kind}});
    auto m = load_model(tmp.dir());
    EXPECT_EQ(m->describe()["positions"]["kind"], kind);
    Tensor out = m->forward(in).at("last_hidden_state");
    EXPECT_TRUE(all_finite(out));
    EXPECT_GT(max_abs_diff(out, ref), 1e-3);
  }
}

// DeBERTa-v2 reads pos_att_type by membership: an extra entry (v1's "p2p") changes nothing, a missing one does.
TEST(EncoderOptions, DebertaPosAttTypeMembership) {
  const std::string rel = "models/deberta-v2/DebertaV2Model";
  auto base = load_model(fixture(rel).string());
  TensorMap in{{"input_ids", ids_tensor(2, 8, 128, 0)}};
  Tensor ref = base->forward(in).at("last_hidden_state");
  TempModel extra(rel, {{"pos_att_type", "p2c|c2p|p2p"}});
  EXPECT_LT(max_abs_diff(load_model(extra.dir())->forward(in).at("last_hidden_state"), ref), 1e-6);
  TempModel c2p_only(rel, {{"pos_att_type", json::array({"c2p"})}});
  EXPECT_GT(max_abs_diff(load_model(c2p_only.dir())->forward(in).at("last_hidden_state"), ref), 1e-3);
}

// Relative distances are bounded by max_position_embeddings; longer inputs are refused, not read out of bounds.
TEST(EncoderOptions, RelativeKeyRejectsTooLongSequences) {
  auto m = load_model(fixture("encoder_variants/bert/BertModel-relative_key").string());
  TensorMap in{{"input_ids", ids_tensor(1, 30, 64, 0)}};
  try {
    m->forward(in);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_position_embeddings"), std::string::npos) << e.what();
  }
}

TEST(EncoderOptions, MissingLayerTensorIsNamed) {
  TempModel tmp("models/bert/BertModel", {{"num_hidden_layers", 3}});
  const std::string err = load_error(tmp.dir());
  EXPECT_NE(err.find("encoder.layer.2."), std::string::npos) << err;
  EXPECT_NE(err.find("missing tensor"), std::string::npos) << err;
}

TEST(EncoderOptions, WrongWeightShapeNamesTensorAndShapes) {
  TempModel tmp("models/bert/BertModel", {{"intermediate_size", 65}});
  const std::string err = load_error(tmp.dir());
  EXPECT_NE(err.find("encoder.layer.0.intermediate.dense.weight"), std::string::npos) << err;
  EXPECT_NE(err.find("[64, 32]"), std::string::npos) << err;
  EXPECT_NE(err.find("[65, 32]"), std::string::npos) << err;
}

TEST(EncoderOptions, BadConfigFieldsAreNamed) {
  {
    TempModel tmp("models/bert/BertModel", {{"num_attention_heads", "four"}});
    const std::string err = load_error(tmp.dir());
    EXPECT_NE(err.find("num_attention_heads"), std::string::npos) << err;
    EXPECT_NE(err.find("config.json"), std::string::npos) << err;
  }
  {
    TempModel tmp("models/bert/BertModel", {{"num_attention_heads", 5}});
    const std::string err = load_error(tmp.dir());
    EXPECT_NE(err.find("not a multiple of num_attention_heads"), std::string::npos) << err;
  }
  {
    TempModel tmp("models/deberta-v2/DebertaV2Model", {{"pos_att_type", 42}});
    const std::string err = load_error(tmp.dir());
    EXPECT_NE(err.find("pos_att_type"), std::string::npos) << err;
  }
  {
    TempModel tmp("models/bert/BertModel", {{"hidden_act", "no_such_act"}});
    const std::string err = load_error(tmp.dir());
    EXPECT_NE(err.find("hidden_act"), std::string::npos) << err;
  }
}

TEST(EncoderOptions, UnsupportedArchitectureIsReportedAsUnsupported) {
  TempModel tmp("models/bert/BertModel", {{"architectures", json::array({"BertForSpeechRecognition"})}});
  EXPECT_THROW(load_model(tmp.dir()), Unsupported);
}

TEST(EncoderOptions, BadInputsGiveClearErrors) {
  auto m = load_model(fixture("models/bert/BertModel").string());
  Tensor ids = ids_tensor(1, 4, 128, 0);
  ids.i64()[2] = 1000;
  try {
    m->forward({{"input_ids", ids}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input_ids value 1000"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
  TensorMap bad_mask{{"input_ids", ids_tensor(1, 4, 128, 0)},
                     {"attention_mask", Tensor::from_vector_i64({1, 1, 1}, {1, 3})}};
  EXPECT_THROW(m->forward(bad_mask), Error);
  TensorMap bad_types{{"input_ids", ids_tensor(1, 4, 128, 0)},
                      {"token_type_ids", Tensor::from_vector_i64({0, 1, 2, 0}, {1, 4})}};
  EXPECT_THROW(m->forward(bad_types), Error);
  EXPECT_THROW(m->forward({}), Error);
}

// make_log_bucket_position(bucket_size=8, max_position=32): exact inside (-4, 4], log-compressed beyond.
TEST(EncoderOptions, DebertaLogBuckets) {
  EXPECT_EQ(deberta_log_bucket(0, 8, 32), 0);
  EXPECT_EQ(deberta_log_bucket(3, 8, 32), 3);
  EXPECT_EQ(deberta_log_bucket(-4, 8, 32), -4);
  EXPECT_EQ(deberta_log_bucket(5, 8, 32), 5);     // ceil(log(5/4)/log(31/4)*3) + 4 = 1 + 4
  EXPECT_EQ(deberta_log_bucket(15, 8, 32), 6);    // ceil(1.94) + 4
  EXPECT_EQ(deberta_log_bucket(-15, 8, 32), -6);
  EXPECT_EQ(deberta_log_bucket(31, 8, 32), 7);    // log ratio exactly 1 -> 3 + 4
  EXPECT_EQ(deberta_log_bucket(100, 8, 32), 9);   // beyond max_position keeps growing (clamped later)
  auto r = deberta_relative_positions(3, 3, -1, -1);
  EXPECT_EQ(r, (std::vector<int64_t>{0, -1, -2, 1, 0, -1, 2, 1, 0}));
}

TEST(EncoderOptions, DescribeAndTasksReflectTheCheckpoint) {
  auto mlm = load_model(fixture("models/bert/BertForMaskedLM").string());
  json d = mlm->describe();
  EXPECT_EQ(d["family"], "encoder-only");
  EXPECT_EQ(d["head"], "masked_lm");
  EXPECT_EQ(d["weight_prefix"], "bert");
  EXPECT_EQ(d["positions"]["kind"], "absolute");
  EXPECT_EQ(d["norm"]["placement"], "post");
  EXPECT_EQ(d["mlp"]["activation"], "gelu");
  EXPECT_EQ(d["tied_embeddings"], true);
  auto tasks = mlm->tasks();
  EXPECT_NE(std::find(tasks.begin(), tasks.end(), "fill-mask"), tasks.end());

  auto albert = load_model(fixture("models/albert/AlbertModel").string());
  d = albert->describe();
  EXPECT_EQ(d["layer_sharing"]["num_hidden_groups"], 1);
  EXPECT_EQ(d["embedding_projection"]["from"], 16);
  EXPECT_EQ(d["pooler"], "tanh(dense(first token))");

  auto deberta = load_model(fixture("models/deberta-v2/DebertaV2Model").string());
  d = deberta->describe();
  EXPECT_EQ(d["attention"]["kind"], "disentangled");
  EXPECT_EQ(d["attention"]["position_buckets"], 16);

  auto reader = load_model(fixture("models/dpr/DPRReader").string());
  tasks = reader->tasks();
  EXPECT_NE(std::find(tasks.begin(), tasks.end(), "question-answering"), tasks.end());
  EXPECT_EQ(reader->describe()["weight_prefix"], "span_predictor.encoder.bert_model");
}
