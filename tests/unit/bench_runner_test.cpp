// The bench runner through the generic Model interface: a stand-in model that
// records the calls it gets checks what bench asks of a template and that the
// JSON carries every figure (no timing assertions).
#include <gtest/gtest.h>

#include <filesystem>

#include "bench/bench_runner.h"
#include "bench/checkpoint_maker.h"
#include "bench/presets.h"
#include "core/error.h"
#include "formats/checkpoint.h"
#include "templates/model.h"
#include "scratch_dir.h"

using namespace ia;

namespace {

class RecordingModel : public Model {
 public:
  explicit RecordingModel(Family f) : family_(f) {}
  const std::string& model_type() const override { return type_; }
  Family family() const override { return family_; }
  TensorMap forward(const TensorMap& in) override {
    const Tensor& ids = require_input(in, "input_ids", type_);
    ++forward_calls;
    return {{"last_hidden_state", Tensor::zeros(DType::F32, {ids.dim(0), ids.dim(1), 4})}};
  }
  TensorMap generate(const TensorMap& in, const GenerateOptions& o) override {
    const Tensor& ids = require_input(in, "input_ids", type_);
    EXPECT_FALSE(o.eos_stops);
    for (int64_t i = 0; i < ids.numel(); ++i) EXPECT_TRUE(ids.i64()[i] >= 0 && ids.i64()[i] < 50);
    max_new.push_back(o.max_new_tokens);
    Tensor seq = Tensor::zeros(DType::I64, {ids.dim(0), ids.dim(1) + o.max_new_tokens});
    return {{"sequences", seq}};
  }
  int forward_calls = 0;
  std::vector<int64_t> max_new;

 private:
  std::string type_ = "recording";
  Family family_;
};

bench::BenchTarget target(Family f) {
  bench::BenchTarget t;
  t.family = f;
  t.model_type = "recording";
  t.model_dir = "memory";
  t.vocab_size = 50;
  t.max_positions = 64;
  t.weights.parameters = 1000;
  t.weights.bytes = 4000;
  t.weights.bytes_per_token = 3000;
  t.weights.dtype = "F32";
  return t;
}

}  // namespace

TEST(BenchRunner, DecoderJsonHasEveryFigure) {
  RecordingModel m(Family::DecoderOnly);
  bench::BenchOptions o;
  o.prompt_tokens = 16;
  o.gen_tokens = 8;
  o.threads = 2;
  o.repeat = 2;
  o.bandwidth_gb_per_s = 1e6;  // given (and above any recorded step's rate), so the arithmetic is checkable
  nlohmann::json r = bench::bench_model(m, target(Family::DecoderOnly), o);
  for (const char* k : {"engine", "model_dir", "model_type", "family", "weights_dtype", "parameters", "weight_bytes",
                        "threads", "batch", "load_s", "warmup_s", "prompt_tokens", "gen_tokens", "prefill_s",
                        "prefill_tokens_per_s", "decode_s", "decode_tokens_per_s", "decode_ms_per_token",
                        "weight_bytes_per_token", "bandwidth_gb_per_s", "roofline_tokens_per_s",
                        "roofline_fraction", "peak_rss_mb"})
    EXPECT_TRUE(r.contains(k)) << k;
  EXPECT_EQ(r["batch"], 1);
  EXPECT_EQ(r["threads"], 2);
  EXPECT_NEAR(r["roofline_tokens_per_s"].get<double>(), 1e15 / 3000, 1e15 / 3000 * 1e-9);
  EXPECT_FALSE(r.contains("bandwidth_read_gb_per_s"));
  EXPECT_GT(r["peak_rss_mb"].get<double>(), 0);
  // Warm-up (1 and 2 new tokens), then per repetition one prefill-only call and one full call.
  EXPECT_EQ(m.max_new, (std::vector<int64_t>{1, 2, 1, 8, 1, 8}));
  std::string text = bench::format_report(r);
  EXPECT_NE(text.find("roofline"), std::string::npos);
}

TEST(BenchRunner, EncoderJsonHasSequencesPerSecond) {
  RecordingModel m(Family::EncoderOnly);
  bench::BenchOptions o;
  o.prompt_tokens = 32;
  nlohmann::json r = bench::bench_model(m, target(Family::EncoderOnly), o);
  for (const char* k : {"forward_s", "sequences_per_s", "tokens_per_s", "seq_len", "batch", "peak_rss_mb", "load_s"})
    EXPECT_TRUE(r.contains(k)) << k;
  EXPECT_EQ(r["batch"], 8);  // encoder default
  EXPECT_FALSE(r.contains("decode_tokens_per_s"));
  EXPECT_GE(m.forward_calls, 4);
}

TEST(BenchRunner, RejectsImpossibleRequests) {
  RecordingModel m(Family::DecoderOnly);
  bench::BenchOptions o;
  o.prompt_tokens = 60;
  o.gen_tokens = 10;  // 70 > max_positions 64
  EXPECT_THROW(bench::bench_model(m, target(Family::DecoderOnly), o), Error);
  o.prompt_tokens = 8;
  o.gen_tokens = 1;
  EXPECT_THROW(bench::bench_model(m, target(Family::DecoderOnly), o), Error);
  RecordingModel v(Family::Vision);
  EXPECT_THROW(bench::bench_model(v, target(Family::Vision), bench::BenchOptions{}), Error);
}

TEST(BenchRunner, WeightBytesPerTokenSkipLookupTablesUnlessTied) {
  namespace fs = std::filesystem;
  const ia::test::ScratchDir dir_scratch("bench_stats");
  fs::path dir = dir_scratch.path() / "out";
  bench::MakeOptions mo;
  mo.out_dir = dir.string();
  // GPT-2 ties lm_head to wte: wte is read in full per step, wpe only gathered.
  bench::make_checkpoint(bench::find_preset("tiny-gpt2-test"), mo);
  auto ck = Checkpoint::open_dir(dir.string());
  bench::WeightStats s = bench::weight_stats(*ck);
  EXPECT_EQ(s.dtype, "F32");
  EXPECT_EQ(s.bytes - s.bytes_per_token, int64_t(ck->info("transformer.wpe.weight").end - ck->info("transformer.wpe.weight").begin));
  // LLaMA with its own lm_head: embed_tokens is only gathered.
  bench::make_checkpoint(bench::find_preset("tiny-llama-test"), mo);
  ck = Checkpoint::open_dir(dir.string());
  s = bench::weight_stats(*ck);
  const auto& e = ck->info("model.embed_tokens.weight");
  EXPECT_EQ(s.bytes - s.bytes_per_token, int64_t(e.end - e.begin));
}

// End to end on real templates: tiny checkpoints from make-checkpoint, measured
// by `ipfs-accelerate bench --json` (one JSON object with every figure).
namespace {
nlohmann::json run_cli_bench(const std::string& dir, const std::string& extra) {
  std::string cmd = std::string(IA_CLI_PATH) + " bench " + dir + " --threads 2 --json " + extra;
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << cmd << "\n" << out;
  return nlohmann::json::parse(out);
}
}  // namespace

TEST(BenchRunner, CliJsonOnTinyDecodersAndEncoder) {
  namespace fs = std::filesystem;
  const ia::test::ScratchDir root_scratch("bench_cli");
  fs::path root = root_scratch.path() / "out";
  for (const char* preset : {"tiny-gpt2-test", "tiny-llama-test"}) {
    bench::MakeOptions mo;
    mo.out_dir = (root / preset).string();
    mo.dtype = std::string(preset) == "tiny-llama-test" ? DType::BF16 : DType::F32;
    bench::make_checkpoint(bench::find_preset(preset), mo);
    const bool huge = std::string(preset) == "tiny-gpt2-test";
    nlohmann::json r = run_cli_bench(mo.out_dir, std::string("--prompt-tokens 12 --gen-tokens 5 --bandwidth-gbs 20") +
                                                     (huge ? " --weights hugepages" : ""));
    EXPECT_EQ(r["weights_placement"], huge ? "hugepages" : "mmap");  // tiny: auto keeps mmap
    EXPECT_GE(r["weights_huge_page_fraction"].get<double>(), 0.0);
    for (const char* k : {"load_s", "prefill_tokens_per_s", "decode_tokens_per_s", "decode_ms_per_token",
                          "roofline_tokens_per_s", "roofline_fraction", "bandwidth_gb_per_s", "peak_rss_mb",
                          "weight_bytes_per_token", "parameters"})
      EXPECT_TRUE(r.contains(k)) << preset << " " << k;
    EXPECT_EQ(r["family"], "decoder-only");
    EXPECT_EQ(r["timing"], "prefill+decode_step");
    EXPECT_EQ(r["weights_dtype"], std::string(preset) == "tiny-llama-test" ? "BF16" : "F32");
    EXPECT_GT(r["decode_tokens_per_s"].get<double>(), 0);
  }
  bench::MakeOptions mo;
  mo.out_dir = (root / "bert").string();
  bench::make_checkpoint(bench::find_preset("tiny-bert-test"), mo);
  nlohmann::json r = run_cli_bench(mo.out_dir, "--prompt-tokens 16 --batch 2");
  EXPECT_EQ(r["family"], "encoder-only");
  EXPECT_EQ(r["batch"], 2);
  for (const char* k : {"load_s", "forward_s", "sequences_per_s", "tokens_per_s", "peak_rss_mb"})
    EXPECT_TRUE(r.contains(k)) << k;
  // A bad --weights value is refused by the option parser, naming the choices.
  const std::string bad = std::string(IA_CLI_PATH) + " bench " + mo.out_dir + " --weights huge 2>&1";
  FILE* p = popen(bad.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[1024];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  EXPECT_NE(pclose(p), 0);
  EXPECT_NE(out.find("--weights"), std::string::npos) << out;
}

// A model with step APIs is timed through prefill + decode_step (exact split).
namespace {
class RecordingStepModel : public RecordingModel, public StepDecoder {
 public:
  RecordingStepModel() : RecordingModel(Family::DecoderOnly), logits_(8 * 50, 0.f) {}
  int64_t vocab() const override { return 50; }
  const float* prefill(const int64_t* ids, const int64_t*, int64_t batch, int64_t prompt_len, int64_t capacity) override {
    for (int64_t i = 0; i < batch * prompt_len; ++i) EXPECT_TRUE(ids[i] >= 0 && ids[i] < 50);
    EXPECT_GE(capacity, prompt_len);
    ++prefills;
    batch_ = batch;
    return logits_.data();
  }
  const float* decode_step(const int64_t* tokens) override {
    for (int64_t b = 0; b < batch_; ++b) EXPECT_EQ(tokens[b], 0);  // argmax of all-zero logits
    ++steps;
    return logits_.data();
  }
  int prefills = 0, steps = 0;

 private:
  std::vector<float> logits_;
  int64_t batch_ = 0;
};
}  // namespace

TEST(BenchRunner, StepDecoderIsTimedThroughPrefillAndDecodeStep) {
  RecordingStepModel m;
  bench::BenchOptions o;
  o.prompt_tokens = 16;
  o.gen_tokens = 8;
  o.batch = 2;
  o.repeat = 2;
  o.roofline = false;
  nlohmann::json r = bench::bench_model(m, target(Family::DecoderOnly), o);
  EXPECT_EQ(r["timing"], "prefill+decode_step");
  EXPECT_EQ(m.prefills, 1 + 2);            // warm-up + repetitions
  EXPECT_EQ(m.steps, 3 + 2 * 7);           // warm-up (prefill + 3 steps) + (gen - 1) per repetition
  EXPECT_TRUE(m.max_new.empty());          // generate() not used
  EXPECT_FALSE(r.contains("roofline_tokens_per_s"));
}

// Without a given bandwidth, the roofline comes from reads interleaved with the decode
// steps; a model whose weights are not in large huge-page files gets the probe buffer.
TEST(BenchRunner, RooflineBandwidthIsMeasuredBetweenDecodeSteps) {
  RecordingStepModel m;
  bench::BenchOptions o;
  o.prompt_tokens = 8;
  o.gen_tokens = 4;
  nlohmann::json r = bench::bench_model(m, target(Family::DecoderOnly), o);
  EXPECT_EQ(m.steps, 3 + 3);
  EXPECT_NE(r["bandwidth_source"].get<std::string>().find("512 MiB buffer"), std::string::npos) << r.dump();
  EXPECT_GT(r["bandwidth_gb_per_s"].get<double>(), 0);
  EXPECT_NEAR(r["roofline_tokens_per_s"].get<double>(), r["bandwidth_gb_per_s"].get<double>() * 1e9 / 3000,
              r["roofline_tokens_per_s"].get<double>() * 1e-3);
}

// A bandwidth below what decode itself streamed cannot be the ceiling: the roofline then
// uses the decode's own rate (fraction 1) and reports both figures.
TEST(BenchRunner, RooflineIsNeverBelowWhatDecodeStreamed) {
  RecordingStepModel m;
  bench::BenchOptions o;
  o.prompt_tokens = 8;
  o.gen_tokens = 4;
  o.bandwidth_gb_per_s = 1e-9;  // one byte per second: far below any real step
  nlohmann::json r = bench::bench_model(m, target(Family::DecoderOnly), o);
  EXPECT_NEAR(r["roofline_fraction"].get<double>(), 1.0, 1e-3) << r.dump();
  EXPECT_EQ(r["bandwidth_read_gb_per_s"].get<double>(), 0.0);  // 1e-9 rounds to 0 at 3 decimals
  EXPECT_NE(r["bandwidth_source"].get<std::string>().find("raised"), std::string::npos);
  // The reported bandwidth is the decode's bytes per second (3000 per step), to the 3 decimals printed.
  EXPECT_NEAR(r["bandwidth_gb_per_s"].get<double>(), r["decode_tokens_per_s"].get<double>() * 3000 / 1e9,
              6e-4 + 1e-3 * r["bandwidth_gb_per_s"].get<double>());
}
