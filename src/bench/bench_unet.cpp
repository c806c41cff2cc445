#include "bench/bench_unet.h"

#include <algorithm>

#include "backends/cpu/cpu_info.h"
#include "bench/bench_inputs.h"
#include "bench/cpu_time.h"
#include "bench/memory_usage.h"
#include "core/error.h"
#include "templates/diffusion/diffusers_component.h"
#include "templates/diffusion/unet_2d_condition.h"

namespace ia::bench {

bool is_diffusers_unet_dir(const std::string& dir) {
  return diffusion::diffusers_class_name(dir) == "UNet2DConditionModel";
}

nlohmann::json run_unet_bench(const std::string& dir, const BenchOptions& opts) {
  IA_CHECK(opts.repeat >= 1, "bench: --repeat must be >= 1");
  const int threads = cpu::set_num_threads(opts.threads);
  double t0 = now_s();
  auto unet = diffusion::DiffusionUNet::load(dir);
  const double load_s = now_s() - t0;
  const auto& c = unet->config();
  const WeightStats ws = weight_stats(*diffusion::open_component_weights(dir));
  const int64_t B = opts.batch > 0 ? opts.batch : 2, S = c.sample_size > 0 ? c.sample_size : 64, T = 77;
  const Tensor sample = uniform_f32({B, c.in_channels, S, S}, opts.seed);
  const Tensor ehs = uniform_f32({B, T, c.cross_attention_dim[0]}, opts.seed + 1);
  const Tensor timestep = Tensor::from_vector_i64({500}, {1});
  nlohmann::json r;
  r["engine"] = "ipfs-accelerate";
  r["model_dir"] = dir;
  r["model_type"] = "UNet2DConditionModel";
  r["family"] = "diffusion";
  r["weights_dtype"] = ws.dtype;
  r["parameters"] = ws.parameters;
  r["weight_bytes"] = ws.bytes;
  r["threads"] = threads;
  r["kernel_isa"] = cpu::cpu_info().kernel_isa;
  r["batch"] = B;
  r["latent_size"] = {S, S};
  r["seq_len"] = T;
  r["load_s"] = round_to(load_s, 4);
  t0 = now_s();
  unet->forward(sample, timestep, ehs);  // pages the weights in, warms the GEMM kernels up
  r["warmup_s"] = round_to(now_s() - t0, 4);
  double best = 1e30, best_cpu = 0;
  for (int i = 0; i < opts.repeat; ++i) {
    const double c0 = process_cpu_seconds();
    t0 = now_s();
    unet->forward(sample, timestep, ehs);
    const double t = now_s() - t0;
    if (t < best) best = t, best_cpu = process_cpu_seconds() - c0;
  }
  r["cpu_utilisation"] = round_to(best_cpu / (best * threads), 3);
  r["step_s"] = round_to(best, 4);
  r["steps_per_s"] = round_to(1.0 / best, 4);
  r["peak_rss_mb"] = round_to(double(peak_rss_bytes()) / (1 << 20), 1);
  return r;
}

}  // namespace ia::bench
