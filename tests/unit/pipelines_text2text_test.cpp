// Text2text generation: beam search reproduces transformers 4.44.2's
// BeamSearchScorer (tests/fixtures/beam_search: references made with the real
// scorer and processors, see its oracle/gen.py) on T5 and switch_transformers,
// and the text2text pipeline returns them (and greedy) through its result JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "pipelines/text2text_pipeline.h"
#include "templates/encoder_decoder/encdec_model.h"

using namespace ia;

#include "pipelines_test_util.h"

namespace {

EarlyStopping early(const json& v) { return early_stopping_from(v); }

}  // namespace

TEST(BeamSearch, MatchesTransformersBeamSearchScorer) {
  int cases = 0;
  for (const auto& e : fs::directory_iterator(fs::path(IA_FIXTURES_DIR) / "beam_search")) {
    if (e.path().extension() != ".json") continue;
    json ref = json::parse(std::ifstream(e.path()));
    const json& s = ref["settings"];
    std::unique_ptr<Model> model = load_model((fs::path(IA_FIXTURES_DIR) / "models" / ref["model"].get<std::string>()).string());
    auto* m = dynamic_cast<EncDecModel*>(model.get());
    ASSERT_NE(m, nullptr);
    BeamSettings b;
    b.num_beams = s["num_beams"];
    b.length_penalty = s["length_penalty"];
    b.early_stopping = early(s["early_stopping"]);
    b.num_return_sequences = s["num_return"];
    b.max_length = 1 + s["max_new"].get<int64_t>();
    b.eos_ids = s["eos"].get<std::vector<int64_t>>();
    b.pad_id = s["pad"];
    GenerateConfig g = m->generate_config();
    g.no_repeat_ngram_size = s.value("no_repeat_ngram", 0);
    BeamResult r = beam_generate(*m, ref["source_ids"].get<std::vector<int64_t>>(), b, g);
    const auto want = ref["sequences"].get<std::vector<std::vector<int64_t>>>();
    EXPECT_EQ(r.sequences, want) << e.path().filename();
    ASSERT_EQ(r.scores.size(), ref["scores"].size());
    for (size_t i = 0; i < r.scores.size(); ++i)
      EXPECT_NEAR(r.scores[i], ref["scores"][i].get<double>(), 1e-4) << e.path().filename() << " sequence " << i;
    ++cases;
  }
  EXPECT_GE(cases, 6);
}

TEST(BeamSearch, RejectsBadSettings) {
  BeamSettings b;
  b.num_beams = 1;
  EXPECT_THROW(BeamSearch{b}, Error);
  b.num_beams = 2;
  b.num_return_sequences = 3;
  EXPECT_THROW(BeamSearch{b}, Error);
  EXPECT_THROW(early_stopping_from(json("sometimes")), Error);
}

TEST(Text2TextPipeline, GreedyAndBeamSearchThroughThePipeline) {
  const ScratchDir dir_scratch = model_with_tokenizer("t5/T5ForConditionalGeneration", 128, {});
  std::string dir = dir_scratch.str();
  Text2TextPipeline pipe(dir);
  TextRequest req;
  req.task = "text2text-generation";
  req.inputs = {words({28, 49, 59, 118, 69, 67, 60, 3})};
  Text2TextSettings s = pipe.defaults();
  EXPECT_EQ(s.generation.eos_token_ids, std::vector<int64_t>{1});
  s.generation.max_new_tokens = 8;
  json r = pipe.run(req, s);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  EXPECT_EQ(r["generation"][0]["sequences"][0]["token_ids"], json(std::vector<int64_t>(8, 49)));  // reference greedy
  EXPECT_EQ(r["generated_text"], words(std::vector<int64_t>(8, 49)));

  s.num_beams = 4;
  s.num_return_sequences = 2;
  req.task = "summarization";
  r = pipe.run(req, s);
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  json ref = json::parse(std::ifstream(fs::path(IA_FIXTURES_DIR) / "beam_search" / "t5-beams4-return2.json"));
  const json& seqs = r["generation"][0]["sequences"];
  ASSERT_EQ(seqs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    std::vector<int64_t> want = ref["sequences"][i];
    want.erase(want.begin());  // the decoder start token
    EXPECT_EQ(seqs[i]["token_ids"].get<std::vector<int64_t>>(), want);
    EXPECT_NEAR(seqs[i]["score"].get<double>(), ref["scores"][i].get<double>(), 1e-4);
  }
  EXPECT_TRUE(r.contains("summary"));
  EXPECT_EQ(r["parameters"]["num_beams"], 4);

  s.num_beams = 1;  // several sequences need beams or sampling
  s.num_return_sequences = 2;
  EXPECT_FALSE(pipe.run(req, s)["success"].get<bool>());
}

TEST(Text2TextPipeline, SeededSamplingRepeatsAndCliBeamFlags) {
  const ScratchDir dir_scratch = model_with_tokenizer("t5/T5ForConditionalGeneration", 128, {});
  std::string dir = dir_scratch.str();
  Text2TextPipeline pipe(dir);
  TextRequest req;
  req.task = "translation";
  req.inputs = {words({28, 49, 59, 118, 69, 67, 60, 3})};
  Text2TextSettings s = pipe.defaults();
  s.generation.max_new_tokens = 6;
  s.generation.sampling.do_sample = true;
  s.generation.sampling.top_k = 0;
  s.generation.sampling.temperature = 2.0f;
  s.generation.sampling.seed = 11;
  s.num_return_sequences = 2;
  json a = pipe.run(req, s), b = pipe.run(req, s);
  ASSERT_TRUE(a["success"].get<bool>()) << a.dump();
  EXPECT_EQ(a["generation"][0]["sequences"].size(), 2u);
  EXPECT_EQ(a["generation"][0]["sequences"][0]["token_ids"], b["generation"][0]["sequences"][0]["token_ids"]);
  EXPECT_TRUE(a.contains("translation"));

  // The CLI routes encoder-decoders to this pipeline and passes the beam flags.
  std::string cmd = std::string(IA_CLI_PATH) + " run " + dir + " --input '" + req.inputs[0] +
                    "' --max-new-tokens 8 --num-beams 4 --num-return-sequences 2 --early-stopping false --json 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  json r = json::parse(out);
  ASSERT_TRUE(r["success"].get<bool>()) << out;
  json ref = json::parse(std::ifstream(fs::path(IA_FIXTURES_DIR) / "beam_search" / "t5-beams4-return2.json"));
  std::vector<int64_t> want = ref["sequences"][1];
  want.erase(want.begin());
  EXPECT_EQ(r["generation"][0]["sequences"][1]["token_ids"].get<std::vector<int64_t>>(), want);
}
