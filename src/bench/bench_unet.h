// `bench` for diffusers UNet2DConditionModel directories: one denoising step
// (forward over a classifier-free-guidance batch of latents, one timestep,
// text-encoder hidden states) timed like the other runners; bench/torch_unet_peer.py
// measures diffusers' own PyTorch eager forward on the same directory and shapes.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "bench/bench_runner.h"

namespace ia::bench {

bool is_diffusers_unet_dir(const std::string& dir);
// Latents [batch (default 2), in_channels, S, S] with S = config sample_size (64 when
// absent), encoder_hidden_states [batch, 77, cross_attention_dim], timestep 500.
nlohmann::json run_unet_bench(const std::string& dir, const BenchOptions& opts);

}  // namespace ia::bench
