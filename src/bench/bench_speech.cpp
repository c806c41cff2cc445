#include "bench/bench_speech.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "backends/cpu/cpu_info.h"
#include "bench/bench_inputs.h"
#include "bench/cpu_time.h"
#include "bench/memory_usage.h"
#include "core/error.h"
#include "templates/model.h"
#include "templates/speech/whisper_model.h"

namespace ia::bench {

nlohmann::json bench_speech_model(Model& model, const BenchTarget& target, const BenchOptions& opts) {
  auto* w = dynamic_cast<WhisperModel*>(&model);
  IA_CHECK(w != nullptr, "bench: ", target.model_type, ": the speech benchmark measures Whisper models");
  IA_CHECK(opts.repeat >= 1, "bench: --repeat must be >= 1");
  IA_CHECK(opts.gen_tokens >= 1, "bench: --gen-tokens must be >= 1");
  const ModelContext ctx = ModelContext::open(target.model_dir);
  const int64_t mel = ctx.config.get_int("num_mel_bins", 80);
  const int64_t frames = w->audio_encoder().input_frames();
  const double audio_s = double(frames) * 0.01;  // 10 ms hop of the feature extractor
  const int threads = cpu::set_num_threads(opts.threads);
  // Deterministic log-mel-like values in [-1, 1).
  Tensor f = uniform_f32({1, mel, frames}, opts.seed);
  GenerateOptions o;
  o.max_new_tokens = opts.gen_tokens;
  o.eos_stops = false;
  o.return_step_logits = false;
  TensorMap in{{"input_features", f}};
  nlohmann::json r;
  r["engine"] = "ipfs-accelerate";
  r["model_dir"] = target.model_dir;
  r["model_type"] = target.model_type;
  r["architecture"] = target.architecture;
  r["family"] = family_name(target.family);
  r["weights_dtype"] = target.weights.dtype;
  r["parameters"] = target.weights.parameters;
  r["threads"] = threads;
  r["kernel_isa"] = cpu::cpu_info().kernel_isa;
  r["audio_s"] = audio_s;
  r["gen_tokens"] = opts.gen_tokens;
  r["load_s"] = round_to(target.load_s, 4);
  double t0 = now_s();
  model.generate(in, o);  // pages in the weights, warms the kernels up
  r["warmup_s"] = round_to(now_s() - t0, 4);
  double best = 1e30, best_enc = 1e30, best_cpu = 0;
  for (int i = 0; i < std::max(opts.repeat, 3); ++i) {
    t0 = now_s();
    w->encode_audio(f);
    best_enc = std::min(best_enc, now_s() - t0);
    const double c0 = process_cpu_seconds();
    t0 = now_s();
    model.generate(in, o);
    const double t = now_s() - t0;
    if (t < best) best = t, best_cpu = process_cpu_seconds() - c0;
  }
  r["cpu_utilisation"] = round_to(best_cpu / (best * threads), 3);
  r["encoder_s"] = round_to(best_enc, 5);
  r["transcribe_s"] = round_to(best, 5);
  r["decode_tokens_per_s"] = round_to(double(opts.gen_tokens) / std::max(best - best_enc, 1e-9), 2);
  r["real_time_factor"] = round_to(best / audio_s, 5);
  r["peak_rss_mb"] = round_to(double(peak_rss_bytes()) / (1 << 20), 1);
  return r;
}

}  // namespace ia::bench
