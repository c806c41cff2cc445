#include "parts/timestep_embedding.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.h"

namespace ia {

Tensor sinusoidal_timestep_embedding(const std::vector<float>& timesteps, int64_t dim, bool flip_sin_to_cos,
                                     double downscale_freq_shift, double scale, double max_period) {
  IA_CHECK(dim > 0, "timestep embedding: dimension must be positive, got ", dim);
  const int64_t half = dim / 2, N = int64_t(timesteps.size());
  IA_CHECK(half > 0 && double(half) != downscale_freq_shift, "timestep embedding: dimension ", dim,
           " with freq_shift ", downscale_freq_shift, " divides by zero");
  // float32 throughout, in the order torch evaluates it: (-ln(P) * arange) / (half - shift), exp,
  // t * freq, * scale.
  std::vector<float> freq(static_cast<size_t>(half));
  const float neg_log = float(-std::log(max_period)), denom = float(double(half) - downscale_freq_shift);
  for (int64_t i = 0; i < half; ++i) freq[size_t(i)] = std::exp((neg_log * float(i)) / denom);
  Tensor out = Tensor::zeros(DType::F32, {N, dim});
  float* o = out.f32();
  const int64_t sin_at = flip_sin_to_cos ? half : 0, cos_at = flip_sin_to_cos ? 0 : half;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t i = 0; i < half; ++i) {
      const float arg = float(scale) * (timesteps[size_t(n)] * freq[size_t(i)]);
      o[n * dim + sin_at + i] = std::sin(arg);
      o[n * dim + cos_at + i] = std::cos(arg);
    }
  }
  return out;
}

Tensor gaussian_fourier_embedding(const std::vector<float>& timesteps, const Tensor& weight, bool flip_sin_to_cos) {
  IA_CHECK(weight.defined() && weight.rank() == 1 && weight.numel() > 0,
           "Gaussian Fourier projection: weight must be a non-empty 1-D tensor");
  const Tensor w = weight.to_f32();
  const int64_t half = w.numel(), N = int64_t(timesteps.size());
  Tensor out = Tensor::f32({N, 2 * half});
  const int64_t sin_at = flip_sin_to_cos ? half : 0, cos_at = flip_sin_to_cos ? 0 : half;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < half; ++i) {
      // torch order: (x * w) * 2, then * pi (each rounded to float32).
      const float arg = ((timesteps[size_t(n)] * w.f32()[i]) * 2.f) * float(3.14159265358979323846);
      out.f32()[n * 2 * half + sin_at + i] = std::sin(arg);
      out.f32()[n * 2 * half + cos_at + i] = std::cos(arg);
    }
  return out;
}

cpu::Act diffusers_activation(const std::string& name, const std::string& where) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (n == "swish" || n == "silu") return cpu::Act::Silu;
  if (n == "mish") return cpu::Act::Mish;
  if (n == "gelu") return cpu::Act::GeluExact;
  if (n == "relu") return cpu::Act::Relu;
  fail(where, ": unsupported activation function '", name, "' (diffusers knows swish, silu, mish, gelu, relu)");
}

TimestepEmbedding TimestepEmbedding::load(const Weights& w, int64_t in, int64_t time_embed_dim, cpu::Act act,
                                          std::optional<cpu::Act> post_act, int64_t cond_proj_dim) {
  TimestepEmbedding t;
  if (cond_proj_dim > 0) t.cond_proj = Linear::load(w.pp("cond_proj"), cond_proj_dim, in, false);
  t.linear_1 = Linear::load(w.pp("linear_1"), in, time_embed_dim, true);
  t.linear_2 = Linear::load(w.pp("linear_2"), time_embed_dim, time_embed_dim, true);
  t.act = act;
  t.post_act = post_act;
  return t;
}

Tensor TimestepEmbedding::forward(const Tensor& t_emb, const Tensor& condition) const {
  IA_CHECK(t_emb.rank() == 2 && t_emb.dim(1) == linear_1.in, "TimestepEmbedding: input ", shape_str(t_emb.shape()),
           " must be [N, ", linear_1.in, "]");
  Tensor x = t_emb;
  if (condition.defined()) {
    IA_CHECK(cond_proj.defined(), "TimestepEmbedding: timestep_cond given but the model has no cond_proj "
                                  "(config time_cond_proj_dim is null)");
    IA_CHECK(condition.rank() == 2 && condition.dim(0) == t_emb.dim(0) && condition.dim(1) == cond_proj.in,
             "TimestepEmbedding: timestep_cond ", shape_str(condition.shape()), " must be [", t_emb.dim(0), ", ",
             cond_proj.in, "]");
    x = cond_proj.forward(condition.to_f32());
    cpu::add_inplace(x.f32(), t_emb.f32(), x.numel());
  }
  Tensor h = linear_1.forward(x);
  cpu::apply_act(act, h.f32(), h.numel());
  Tensor y = linear_2.forward(h);
  if (post_act) cpu::apply_act(*post_act, y.f32(), y.numel());
  return y;
}

}  // namespace ia
