#include <iostream>

#include "bench/checkpoint_maker.h"
#include "bench/presets.h"
#include "cli/commands.h"
#include "core/error.h"

namespace ia::cli {

Action add_make_checkpoint(CLI::App& app) {
  std::string names;
  for (const auto& n : bench::preset_names()) names += (names.empty() ? "" : ", ") + n;
  auto* cmd = app.add_subcommand("make-checkpoint",
                                 "Write a real-size Hugging Face checkpoint directory with random weights "
                                 "(config.json of the real model) for benchmarks");
  auto preset = std::make_shared<std::string>();
  auto dtype = std::make_shared<std::string>("f32");
  auto opts = std::make_shared<bench::MakeOptions>();
  cmd->add_option("--preset", *preset, "One of: " + names)->required();
  cmd->add_option("--out", opts->out_dir, "Output directory")->required();
  cmd->add_option("--dtype", *dtype, "Weight dtype: f32, f16 or bf16")->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Random seed")->capture_default_str();
  return [preset, dtype, opts]() {
    if (*dtype == "f32")
      opts->dtype = DType::F32;
    else if (*dtype == "f16")
      opts->dtype = DType::F16;
    else if (*dtype == "bf16")
      opts->dtype = DType::BF16;
    else
      throw Error(cat("make-checkpoint: --dtype must be f32, f16 or bf16 (got '", *dtype, "')"));
    bench::Preset p = bench::find_preset(*preset);
    bench::MakeResult r = bench::make_checkpoint(p, *opts);
    std::cout << "wrote " << opts->out_dir << ": " << p.description << ", " << r.parameters << " parameters, "
              << r.bytes / (1 << 20) << " MiB " << *dtype << " in " << r.shards << " file(s), " << r.seconds
              << " s\n";
    return 0;
  };
}

}  // namespace ia::cli
