#include <iostream>

#include "backends/cpu/cpu_info.h"
#include "bench/bandwidth.h"
#include "bench/bench_runner.h"
#include "cli/commands.h"
#include "core/error.h"

namespace ia::cli {

Action add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "bench", "Measure load time, prefill/decode tokens/s (decoders) or sequences/s (encoders), peak RSS and the "
               "decode memory-bandwidth roofline on a checkpoint directory");
  auto dir = std::make_shared<std::string>();
  auto opts = std::make_shared<bench::BenchOptions>();
  auto as_json = std::make_shared<bool>(false);
  auto bandwidth_only = std::make_shared<bool>(false);
  cmd->add_option("model_dir", *dir, "Hugging Face model directory (see make-checkpoint)");
  cmd->add_option("--threads", opts->threads, "CPU threads (default: OMP_NUM_THREADS or all cores)");
  add_weights_option(cmd);
  cmd->add_option("--prompt-tokens", opts->prompt_tokens, "Prompt length (encoders: sequence length)")
      ->capture_default_str();
  cmd->add_option("--gen-tokens", opts->gen_tokens, "New tokens per sequence (decoders)")->capture_default_str();
  cmd->add_option("--batch", opts->batch, "Batch size (default: 1 for decoders, 8 for encoders)");
  cmd->add_option("--repeat", opts->repeat, "Timed repetitions; the fastest is reported")->capture_default_str();
  cmd->add_option("--bandwidth-gbs", opts->bandwidth_gb_per_s,
                  "Memory bandwidth to use for the roofline instead of measuring it (GB/s)");
  cmd->add_flag("--bandwidth-only", *bandwidth_only, "Only measure the memory read bandwidth");
  cmd->add_flag("--json", *as_json, "Print one JSON object with all figures");
  return [dir, opts, as_json, bandwidth_only]() {
    if (*bandwidth_only) {
      bench::BandwidthOptions bo;
      bo.threads = cpu::set_num_threads(opts->threads);
      const double gbs = bench::measure_read_bandwidth(bo) / 1e9;
      if (*as_json)
        std::cout << nlohmann::json({{"threads", bo.threads}, {"bandwidth_gb_per_s", gbs}}).dump() << std::endl;
      else
        std::cout << "memory read bandwidth: " << gbs << " GB/s with " << bo.threads << " threads\n";
      return 0;
    }
    IA_CHECK(!dir->empty(), "bench: MODEL_DIR is required (make one with `ipfs-accelerate make-checkpoint`)");
    nlohmann::json r = bench::run_bench(*dir, *opts);
    if (*as_json)
      std::cout << r.dump() << std::endl;
    else
      std::cout << bench::format_report(r);
    return 0;
  };
}

}  // namespace ia::cli
