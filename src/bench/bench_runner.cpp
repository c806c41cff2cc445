#include "bench/bench_runner.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <sstream>

#include "backends/cpu/cpu_info.h"
#include "bench/bandwidth.h"
#include "bench/bench_speech.h"
#include "bench/bench_unet.h"
#include "bench/bench_vision.h"
#include "bench/bench_inputs.h"
#include "bench/cpu_time.h"
#include "bench/memory_usage.h"
#include "bench/moe_active_weights.h"
#include "core/error.h"
#include "core/huge_pages.h"
#include "formats/checkpoint.h"
#include "templates/decoder_only/decoder_model.h"
#include "templates/model.h"

namespace ia::bench {

using json = nlohmann::json;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Embedding tables a decode step only gathers one row from.
bool is_lookup_table(const std::string& name) {
  static const char* kLookups[] = {"wte.weight",           "wpe.weight",
                                   "embed_tokens.weight",  "embed_positions.weight",
                                   "word_embeddings.weight", "position_embeddings.weight",
                                   "token_type_embeddings.weight", "embed_in.weight"};
  for (const char* s : kLookups)
    if (ends_with(name, s)) return true;
  return false;
}
bool is_token_table(const std::string& name) {
  return ends_with(name, "wte.weight") || ends_with(name, "embed_tokens.weight") ||
         ends_with(name, "word_embeddings.weight") || ends_with(name, "embed_in.weight");
}
bool is_output_head(const std::string& name) {
  return ends_with(name, "lm_head.weight") || ends_with(name, "embed_out.weight");
}

// Deterministic ids in [0, vocab): a cheap LCG is enough for benchmark inputs.
Tensor random_ids(int64_t batch, int64_t len, int64_t vocab, uint64_t seed) {
  std::vector<int64_t> v(size_t(batch * len));
  InputStream g(seed);
  for (auto& x : v) x = int64_t((g.next() >> 33) % uint64_t(vocab));
  return Tensor::from_vector_i64(v, {batch, len});
}

Tensor ones_i64(int64_t batch, int64_t len) {
  return Tensor::from_vector_i64(std::vector<int64_t>(size_t(batch * len), 1), {batch, len});
}

template <typename F>
double time_once(F&& f) {
  const double t0 = now_s();
  f();
  return now_s() - t0;
}

// Greedy choice per row, as generate() makes it.
void argmax_rows(const float* logits, int64_t B, int64_t V, std::vector<int64_t>& out) {
  out.resize(size_t(B));
  for (int64_t b = 0; b < B; ++b) out[size_t(b)] = std::max_element(logits + b * V, logits + (b + 1) * V) - (logits + b * V);
}

struct DecodeTimes {
  double prefill_s = 1e30, decode_s = 1e30;
  double prefill_cpu_s = 0, decode_cpu_s = 0;  // CPU time of the fastest runs
  double read_s = 0;  // time to stream the probed memory once per decode step, summed (0: not probed)
};

// Exact split through the model's own prefill / decode_step calls (StepDecoder).
// With `probe`, every decode step is followed by one streaming read of that memory
// (not counted in decode time): on a machine whose bandwidth drifts with its
// neighbours' load, the roofline then comes from the same moments as the steps.
DecodeTimes time_decoder_steps(StepDecoder& dm, const Tensor& ids, int64_t G, int repeat,
                               const std::vector<MemoryRegion>& probe = {}, int64_t max_steps = -1) {
  const int64_t B = ids.dim(0), P = ids.dim(1), V = dm.vocab();
  std::vector<int64_t> tok;
  DecodeTimes t;
  for (int i = 0; i < repeat; ++i) {
    const double c0 = process_cpu_seconds(), t0 = now_s();
    argmax_rows(dm.prefill(ids.i64(), nullptr, B, P, P + G), B, V, tok);
    const double c1 = process_cpu_seconds(), t1 = now_s();
    double step_s = 0, step_cpu_s = 0, read_s = 0;
    const int64_t steps = max_steps >= 0 ? std::min(G, max_steps + 1) : G;
    for (int64_t s = 1; s < steps; ++s) {
      const double sc = process_cpu_seconds(), st = now_s();
      argmax_rows(dm.decode_step(tok.data()), B, V, tok);
      step_s += now_s() - st;
      step_cpu_s += process_cpu_seconds() - sc;
      if (!probe.empty()) read_s += time_stream_read(probe);
    }
    if (t1 - t0 < t.prefill_s) t.prefill_s = t1 - t0, t.prefill_cpu_s = c1 - c0;
    if (step_s < t.decode_s) t.decode_s = step_s, t.decode_cpu_s = step_cpu_s, t.read_s = read_s;
  }
  return t;
}

// What the interleaved bandwidth reads stream: a 512 MiB buffer in 2 MiB pages, the
// fastest memory the machine gives (streaming the model's own page-cache weights, even
// when mapped through 2 MiB pages, measured up to 10% slower: too lenient a roofline).
struct BandwidthProbe {
  HugePageBuffer buffer;
  std::vector<MemoryRegion> regions;
  size_t bytes = 0;
};
BandwidthProbe make_bandwidth_probe() {
  BandwidthProbe b;
  b.buffer = HugePageBuffer(size_t(512) << 20, "bandwidth probe");
  std::memset(b.buffer.data(), 1, b.buffer.size());
  b.regions.push_back({b.buffer.data(), b.buffer.size()});
  b.bytes = b.buffer.size();
  return b;
}

// Without step APIs: generate(1 new token) = prefill (+ one head); generate(G) adds G-1 decode steps.
DecodeTimes time_generate(Model& model, const TensorMap& in, int64_t B, int64_t P, int64_t G, int repeat,
                          const std::string& who) {
  GenerateOptions g;
  g.eos_stops = false;  // exactly max_new_tokens tokens, whatever the random weights predict
  g.return_step_logits = false;
  double t1 = 1e30, tg = 1e30, c1 = 0, cg = 0;
  for (int i = 0; i < repeat; ++i) {
    g.max_new_tokens = 1;
    double c0 = process_cpu_seconds();
    double t = time_once([&] { model.generate(in, g); });
    if (t < t1) t1 = t, c1 = process_cpu_seconds() - c0;
    g.max_new_tokens = G;
    TensorMap out;
    c0 = process_cpu_seconds();
    t = time_once([&] { out = model.generate(in, g); });
    if (t < tg) tg = t, cg = process_cpu_seconds() - c0;
    auto it = out.find("sequences");
    IA_CHECK(it != out.end() && it->second.rank() == 2 && it->second.dim(0) == B && it->second.dim(1) == P + G,
             "bench: ", who, ": generate() did not return sequences of shape [", B, ", ", P + G, "]");
  }
  return {t1, std::max(tg - t1, 1e-9), c1, std::max(cg - c1, 0.0)};
}

}  // namespace

WeightStats weight_stats(const Checkpoint& ck) {
  WeightStats w;
  std::map<std::string, int64_t> per_dtype;
  bool has_head = false;
  for (const auto& n : ck.names()) has_head |= is_output_head(n);
  for (const auto& n : ck.names()) {
    const TensorInfo& ti = ck.info(n);
    const int64_t numel = shape_numel(ti.shape);
    const int64_t bytes = numel * int64_t(dtype_size(ti.dtype));
    w.parameters += numel;
    w.bytes += bytes;
    per_dtype[dtype_name(ti.dtype)] += numel;
    // A tied token table doubles as the output projection and is read in full.
    const bool read_in_full = !is_lookup_table(n) || (!has_head && is_token_table(n));
    if (read_in_full) w.bytes_per_token += bytes;
  }
  int64_t most = -1;
  for (const auto& [d, n] : per_dtype)
    if (n > most) {
      most = n;
      w.dtype = d;
    }
  return w;
}

json bench_model(Model& model, const BenchTarget& target, const BenchOptions& opts) {
  if (target.family == Family::Vision) return bench_vision_model(model, target, opts);  // images/s
  if (target.family == Family::Speech) return bench_speech_model(model, target, opts);  // real-time factor
  // Mixture-of-experts and state-space models decode token by token like decoders.
  const bool decoder = target.family == Family::DecoderOnly || target.family == Family::MixtureOfExperts ||
                       target.family == Family::StateSpace;
  const bool encoder = target.family == Family::EncoderOnly;
  IA_CHECK(decoder || encoder, "bench: ", target.model_type, " is in the ", family_name(target.family),
           " family; bench measures encoder-only, decoder-only, mixture-of-experts and state-space models");
  IA_CHECK(target.vocab_size > 0, "bench: ", target.model_dir, ": config.json has no usable vocab_size");
  IA_CHECK(opts.prompt_tokens >= 1, "bench: --prompt-tokens must be >= 1");
  IA_CHECK(opts.repeat >= 1, "bench: --repeat must be >= 1");
  const int64_t B = opts.batch > 0 ? opts.batch : (decoder ? 1 : 8);
  const int64_t P = opts.prompt_tokens, G = opts.gen_tokens;
  if (decoder) IA_CHECK(G >= 2, "bench: --gen-tokens must be >= 2 (decode is timed from the second new token)");
  const int64_t needed = P + (decoder ? G : 0);
  IA_CHECK(target.max_positions <= 0 || needed <= target.max_positions, "bench: ", target.model_dir, ": ", needed,
           " positions requested but config.json allows ", target.max_positions);
  const int threads = cpu::set_num_threads(opts.threads);

  json r;
  r["engine"] = "ipfs-accelerate";
  r["model_dir"] = target.model_dir;
  r["model_type"] = target.model_type;
  r["architecture"] = target.architecture;
  r["family"] = family_name(target.family);
  r["weights_dtype"] = target.weights.dtype;
  r["parameters"] = target.weights.parameters;
  if (target.active_parameters > 0) r["active_parameters"] = target.active_parameters;
  r["weight_bytes"] = target.weights.bytes;
  r["threads"] = threads;
  r["kernel_isa"] = cpu::cpu_info().kernel_isa;
  r["batch"] = B;
  r["load_s"] = round_to(target.load_s, 4);
  const Model::WeightMemory& wm = model.weight_memory();
  r["weights_placement"] = placement_name(wm.placement);
  r["weights_huge_page_fraction"] = round_to(wm.bytes ? double(wm.huge_page_bytes) / double(wm.bytes) : 0.0, 3);

  TensorMap in;
  in["input_ids"] = random_ids(B, P, target.vocab_size, opts.seed);
  in["attention_mask"] = ones_i64(B, P);

  if (encoder) {
    r["seq_len"] = P;
    // The first pass pages in memory-mapped weights and warms kernels up.
    r["warmup_s"] = round_to(time_once([&] { model.forward(in); }), 4);
    double best = 1e30, best_cpu = 0;
    for (int i = 0; i < std::max(opts.repeat, 3); ++i) {
      const double c0 = process_cpu_seconds();
      const double t = time_once([&] { model.forward(in); });
      if (t < best) best = t, best_cpu = process_cpu_seconds() - c0;
    }
    r["cpu_utilisation"] = round_to(best_cpu / (best * threads), 3);
    r["forward_s"] = round_to(best, 5);
    r["sequences_per_s"] = round_to(double(B) / best, 3);
    r["tokens_per_s"] = round_to(double(B * P) / best, 2);
  } else {
    r["prompt_tokens"] = P;
    r["gen_tokens"] = G;
    TensorMap warm;
    const int64_t wp = std::min<int64_t>(P, 8);
    warm["input_ids"] = random_ids(B, wp, target.vocab_size, opts.seed + 1);
    warm["attention_mask"] = ones_i64(B, wp);
    DecodeTimes dt;
    BandwidthProbe probe;
    if (auto* dm = dynamic_cast<StepDecoder*>(&model)) {
      r["timing"] = "prefill+decode_step";
      // The full prompt and cache size, so the memory high-water mark is reached here,
      // before the probe buffer (not the model's) exists.
      r["warmup_s"] = round_to(time_once([&] { time_decoder_steps(*dm, in["input_ids"], G, 1, {}, 3); }), 4);
      r["peak_rss_mb"] = round_to(double(peak_rss_bytes()) / (1 << 20), 1);
      if (opts.roofline && opts.bandwidth_gb_per_s <= 0) probe = make_bandwidth_probe();
      dt = time_decoder_steps(*dm, in["input_ids"], G, opts.repeat, probe.regions);
    } else {
      r["timing"] = "generate(1) vs generate(G)";
      r["warmup_s"] = round_to(time_once([&] { time_generate(model, warm, B, wp, 2, 1, target.model_type); }), 4);
      dt = time_generate(model, in, B, P, G, opts.repeat, target.model_type);
    }
    const double t1 = dt.prefill_s, tg = dt.prefill_s + dt.decode_s;
    const double decode_s = std::max(tg - t1, 1e-9);
    const double decode_tps = double(B * (G - 1)) / decode_s;
    r["prefill_s"] = round_to(t1, 5);
    r["prefill_tokens_per_s"] = round_to(double(B * P) / t1, 2);
    r["generate_s"] = round_to(tg, 5);
    r["decode_s"] = round_to(decode_s, 5);
    r["decode_tokens_per_s"] = round_to(decode_tps, 3);
    r["decode_ms_per_token"] = round_to(1000.0 * decode_s / double(G - 1), 3);
    // Share of `threads` cores the process got while timed (well below 1 on a busy machine).
    r["prefill_cpu_utilisation"] = round_to(dt.prefill_cpu_s / (t1 * threads), 3);
    r["decode_cpu_utilisation"] = round_to(dt.decode_cpu_s / (decode_s * threads), 3);
    r["weight_bytes_per_token"] = target.weights.bytes_per_token;
    // Taken before the bandwidth probe, whose 512 MiB buffer is not the model's.
    if (!r.contains("peak_rss_mb")) r["peak_rss_mb"] = round_to(double(peak_rss_bytes()) / (1 << 20), 1);
    if (opts.roofline) {
      double bw = opts.bandwidth_gb_per_s > 0 ? opts.bandwidth_gb_per_s * 1e9 : 0;
      r["bandwidth_source"] = "--bandwidth";
      if (bw <= 0 && dt.read_s > 0) {
        bw = double(probe.bytes) * double(G - 1) / dt.read_s;
        r["bandwidth_source"] = "a 512 MiB buffer (2 MiB pages), read once after every decode step";
      } else if (bw <= 0) {
        BandwidthOptions bo;
        bo.threads = threads;
        bw = measure_read_bandwidth(bo);
        r["bandwidth_source"] = "512 MiB probe before decode";
      }
      // One decode step streams the weights once for the whole batch, and each row's
      // keys and values of every layer (F32): counted at the mean cache length of the
      // timed steps (P + 2 .. P + G).
      int64_t kv_bytes = 0;
      if (const auto* dm = dynamic_cast<const DecoderModel*>(&model)) {
        const DecoderParams& p = dm->params();
        const int64_t per_position = p.n_layers * 2 * p.n_kv_heads * p.head_dim * int64_t(sizeof(float));
        kv_bytes = B * per_position * (P + (G + 2) / 2);
      }
      const int64_t step_bytes = target.weights.bytes_per_token + kv_bytes;
      r["kv_cache_bytes_per_step"] = kv_bytes;
      r["bytes_per_step"] = step_bytes;
      // Memory delivered at least what decode itself streamed. A read that reports less
      // (this VM's bandwidth can fall 2-4x for seconds, and a probe may land in such a dip
      // more often than the steps do) would put the roofline below the measurement, so
      // the roofline uses the decode's own rate then, and says so.
      const double streamed = decode_tps / double(B) * double(step_bytes);
      if (streamed > bw) {
        r["bandwidth_read_gb_per_s"] = round_to(bw / 1e9, 3);
        r["bandwidth_source"] = r["bandwidth_source"].get<std::string>() +
                                "; raised to the bytes decode itself streamed per second (the read was slower)";
        bw = streamed;
      }
      const double roof = double(B) * bw / double(std::max<int64_t>(step_bytes, 1));
      r["bandwidth_gb_per_s"] = round_to(bw / 1e9, 3);
      r["roofline_tokens_per_s"] = round_to(roof, 3);
      r["roofline_fraction"] = round_to(decode_tps / roof, 4);
    }
  }
  if (!r.contains("peak_rss_mb")) r["peak_rss_mb"] = round_to(double(peak_rss_bytes()) / (1 << 20), 1);
  return r;
}

json run_bench(const std::string& model_dir, const BenchOptions& opts) {
  if (bench::is_diffusers_unet_dir(model_dir)) return run_unet_bench(model_dir, opts);  // diffusers component dir
  if (opts.threads > 0) cpu::set_num_threads(opts.threads);
  BenchTarget t;
  t.model_dir = model_dir;
  const double t0 = now_s();
  std::unique_ptr<Model> model = load_model(model_dir);
  t.load_s = now_s() - t0;
  ModelContext ctx = ModelContext::open(model_dir);
  t.family = model->family();
  t.model_type = ctx.model_type;
  t.architecture = ctx.architecture;
  HFConfig text = ctx.config.has("text_config") ? ctx.config.sub("text_config") : ctx.config;
  t.vocab_size = text.get_int_any({"vocab_size", "n_vocab", "padded_vocab_size"}, 0);
  t.max_positions = text.get_int_any({"n_positions", "max_position_embeddings", "n_ctx", "seq_length"}, 0);
  auto ck = Checkpoint::open_dir(model_dir);
  t.weights = weight_stats(*ck);
  const MoeActiveWeights moe = moe_active_weights(*ck, text, t.weights.parameters);
  if (moe.is_moe) {  // a decode step reads only the selected experts
    t.weights.bytes_per_token -= moe.expert_bytes - moe.expert_bytes * moe.top_k / moe.experts;
    t.active_parameters = moe.active_parameters;
  }
  return bench_model(*model, t, opts);
}

std::string format_report(const json& r) {
  std::ostringstream os;
  auto num = [&](const char* k) { return r.contains(k) ? r[k].dump() : std::string("-"); };
  os << "model:      " << r.value("model_dir", "") << " (" << r.value("model_type", "") << ", "
     << r.value("family", "") << ", " << num("parameters") << " parameters, " << r.value("weights_dtype", "")
     << ")\n";
  os << "threads:    " << num("threads") << " (" << r.value("kernel_isa", "") << "), batch " << num("batch") << "\n";
  os << "load:       " << num("load_s") << " s (first run incl. page-in: " << num("warmup_s") << " s); weights: "
     << r.value("weights_placement", "") << " (" << num("weights_huge_page_fraction") << " in 2 MiB pages)\n";
  if (r.contains("decode_tokens_per_s")) {
    os << "prefill:    " << num("prefill_tokens_per_s") << " tokens/s (" << num("prompt_tokens") << " tokens in "
       << num("prefill_s") << " s)\n";
    os << "decode:     " << num("decode_tokens_per_s") << " tokens/s (" << num("decode_ms_per_token")
       << " ms/token over " << num("gen_tokens") << " new tokens, KV cache)\n";
    os << "cpu share:  prefill " << num("prefill_cpu_utilisation") << ", decode " << num("decode_cpu_utilisation")
       << " of " << num("threads") << " threads (below 1: the machine was busy)\n";
    if (r.contains("roofline_tokens_per_s"))
      os << "roofline:   " << num("roofline_tokens_per_s") << " tokens/s = " << num("bandwidth_gb_per_s")
         << " GB/s / " << num("bytes_per_step") << " bytes per step (weights + KV cache); achieved "
         << round_to(100.0 * r["roofline_fraction"].get<double>(), 1) << "%\n";
  } else if (r.contains("steps_per_s")) {
    os << "unet step:  " << num("step_s") << " s (" << num("steps_per_s") << " steps/s; batch " << num("batch")
       << " latents " << r["latent_size"].dump() << "; cpu share " << num("cpu_utilisation") << ")\n";
  } else if (r.contains("images_per_s")) {
    os << "forward:    " << num("images_per_s") << " images/s (" << num("batch") << " images in " << num("forward_s")
       << " s; cpu share " << num("cpu_utilisation") << ")\n";
  } else {
    os << "forward:    " << num("sequences_per_s") << " sequences/s (" << num("batch") << " x " << num("seq_len")
       << " tokens in " << num("forward_s") << " s; " << num("tokens_per_s") << " tokens/s)\n";
  }
  os << "peak RSS:   " << num("peak_rss_mb") << " MiB\n";
  return os.str();
}

}  // namespace ia::bench
