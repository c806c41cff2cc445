// Diffusion timestep conditioning (diffusers embeddings.py): the sinusoidal
// projection of (possibly fractional) timesteps, and the TimestepEmbedding MLP
// (linear_1 -> act -> linear_2 [-> post_act]) that turns it into the time embedding.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/tensor.h"
#include "parts/nn.h"
#include "parts/weights.h"

namespace ia {

// diffusers get_timestep_embedding: [N, dim]; frequencies exp(-ln(max_period) * i / (dim/2 - shift)),
// [sin, cos] halves (swapped to [cos, sin] with flip_sin_to_cos), zero-padded when dim is odd.
// Computed in float32 as diffusers does.
Tensor sinusoidal_timestep_embedding(const std::vector<float>& timesteps, int64_t dim, bool flip_sin_to_cos,
                                     double downscale_freq_shift, double scale = 1.0, double max_period = 10000.0);

// diffusers GaussianFourierProjection (log=False): x * w * 2*pi per frequency w, [sin, cos]
// halves ([cos, sin] with flip_sin_to_cos) -> [N, 2 * len(w)], in float32.
Tensor gaussian_fourier_embedding(const std::vector<float>& timesteps, const Tensor& weight, bool flip_sin_to_cos);

// diffusers get_activation: "swish"/"silu", "mish", "gelu", "relu" (case-insensitive); fails naming `where`.
cpu::Act diffusers_activation(const std::string& name, const std::string& where);

struct TimestepEmbedding {
  Linear linear_1, linear_2;
  Linear cond_proj;  // cond_proj_dim -> in, no bias; only with a cond_proj_dim (LCM-style timestep_cond)
  cpu::Act act = cpu::Act::Silu;
  std::optional<cpu::Act> post_act;

  // `w` is the module ("time_embedding"); in -> time_embed_dim -> time_embed_dim.
  static TimestepEmbedding load(const Weights& w, int64_t in, int64_t time_embed_dim, cpu::Act act,
                                std::optional<cpu::Act> post_act = std::nullopt, int64_t cond_proj_dim = 0);
  // [N, in] (+ condition [N, cond_proj_dim], added through cond_proj) -> [N, time_embed_dim].
  Tensor forward(const Tensor& t_emb, const Tensor& condition = Tensor()) const;
};

}  // namespace ia
