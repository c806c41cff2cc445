#include "diffusion_schedulers/schedule_common.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ia::diffusion {

namespace {

// torch.linspace(start, end, steps, dtype=float32): float arithmetic, the first half
// counted up from start and the second half down from end.
std::vector<float> torch_linspace_f32(double start_d, double end_d, int steps) {
  std::vector<float> out(size_t(std::max(steps, 0)));
  if (steps == 1) out[0] = float(start_d);
  if (steps <= 1) return out;
  const float start = float(start_d), end = float(end_d);
  const float step = (end - start) / float(steps - 1);
  const int halfway = steps / 2;
  for (int i = 0; i < steps; ++i)
    out[size_t(i)] = i < halfway ? start + step * float(i) : end - step * float(steps - 1 - i);
  return out;
}

// betas_for_alpha_bar (cosine), computed in double as Python does, stored as float32.
std::vector<float> cosine_betas(int n) {
  auto alpha_bar = [](double t) {
    const double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
    return c * c;
  };
  std::vector<float> b(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const double t1 = double(i) / n, t2 = double(i + 1) / n;
    b[size_t(i)] = float(std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999));
  }
  return b;
}

std::vector<float> cumprod_of_alphas(const std::vector<float>& betas) {
  std::vector<float> ac(betas.size());
  float p = 1.0f;
  for (size_t i = 0; i < betas.size(); ++i) {
    p *= (1.0f - betas[i]);
    ac[i] = p;
  }
  return ac;
}

// rescale_zero_terminal_snr (Lin et al. 2023, Algorithm 1) in float32.
std::vector<float> rescale_zero_terminal_snr(const std::vector<float>& betas) {
  std::vector<float> s = cumprod_of_alphas(betas);
  for (float& v : s) v = std::sqrt(v);
  const float s0 = s.front(), sT = s.back();
  const float scale = s0 / (s0 - sT);
  std::vector<float> bar(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const float v = (s[i] - sT) * scale;
    bar[i] = v * v;
  }
  std::vector<float> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = 1.0f - (i == 0 ? bar[0] : bar[i] / bar[i - 1]);
  return out;
}

}  // namespace

std::string config_choice(const HFConfig& cfg, const std::string& key, const std::string& def,
                          const std::vector<std::string>& allowed) {
  const std::string v = cfg.get_string(key, def);
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(cfg.label(), ": ", key, " '", v, "' is not supported (one of: ", list, ")");
  }
  return v;
}

TrainSchedule make_train_schedule(const HFConfig& cfg, bool allow_rescale) {
  TrainSchedule s;
  const int64_t n = cfg.get_int("num_train_timesteps", 1000);
  IA_CHECK(n >= 2 && n <= 100000, cfg.label(), ": num_train_timesteps ", n, " out of range [2, 100000]");
  s.num_train_timesteps = int(n);
  if (cfg.has("trained_betas")) {
    const auto& tb = cfg.raw()["trained_betas"];
    IA_CHECK(tb.is_array(), cfg.label(), ": trained_betas is not a list");
    for (const auto& v : tb) {
      IA_CHECK(v.is_number(), cfg.label(), ": trained_betas holds a non-number");
      s.betas.push_back(v.get<float>());
    }
    IA_CHECK(s.betas.size() == size_t(n), cfg.label(), ": trained_betas has ", s.betas.size(),
             " values but num_train_timesteps is ", n);
  } else {
    const std::string sched =
        config_choice(cfg, "beta_schedule", "linear", {"linear", "scaled_linear", "squaredcos_cap_v2"});
    const double b0 = cfg.get_float("beta_start", 0.0001), b1 = cfg.get_float("beta_end", 0.02);
    if (sched == "linear") {
      s.betas = torch_linspace_f32(b0, b1, int(n));
    } else if (sched == "scaled_linear") {
      s.betas = torch_linspace_f32(std::sqrt(b0), std::sqrt(b1), int(n));
      for (float& b : s.betas) b = b * b;
    } else {
      s.betas = cosine_betas(int(n));
    }
  }
  const bool rescale = allow_rescale && cfg.get_bool("rescale_betas_zero_snr", false);
  if (rescale) s.betas = rescale_zero_terminal_snr(s.betas);
  s.alphas_cumprod = cumprod_of_alphas(s.betas);
  return s;
}

std::vector<double> spaced_timesteps(const std::string& spacing, int num_train, int n, int steps_offset,
                                     bool linspace_rounded) {
  std::vector<double> t;
  if (spacing == "linspace") {
    // np.linspace(0, num_train - 1, n) (the last point exactly the end), reversed.
    const double stop = num_train - 1;
    const double step = n > 1 ? stop / double(n - 1) : 0.0;
    for (int i = n - 1; i >= 0; --i) {
      double v = (n > 1 && i == n - 1) ? stop : double(i) * step;
      t.push_back(linspace_rounded ? std::nearbyint(v) : double(float(v)));
    }
  } else if (spacing == "leading") {
    const int ratio = num_train / n;
    for (int i = n - 1; i >= 0; --i) t.push_back(double(int64_t(i) * ratio + steps_offset));
  } else if (spacing == "trailing") {
    // np.round(np.arange(num_train, 0, -ratio)) - 1 (round half to even).
    const double ratio = double(num_train) / double(n);
    const int64_t count = int64_t(std::ceil(double(num_train) / ratio));
    for (int64_t i = 0; i < count; ++i) t.push_back(std::nearbyint(double(num_train) - double(i) * ratio) - 1);
  } else {
    fail("timestep_spacing '", spacing, "' is not supported (one of: linspace, leading, trailing)");
  }
  return t;
}

std::vector<float> train_sigmas(const std::vector<float>& alphas_cumprod) {
  std::vector<float> s(alphas_cumprod.size());
  for (size_t i = 0; i < s.size(); ++i) s[i] = std::sqrt((1.0f - alphas_cumprod[i]) / alphas_cumprod[i]);
  return s;
}

double interp_index(double x, const std::vector<float>& fp) {
  const int64_t n = int64_t(fp.size());
  if (x <= 0) return fp.front();
  if (x >= double(n - 1)) return fp.back();
  const int64_t j = int64_t(std::floor(x));
  const double frac = x - double(j);
  const double a = fp[size_t(j)], b = fp[size_t(j + 1)];
  // numpy: slope * (x - xp[j]) + fp[j]
  return (b - a) * frac + a;
}

double sigma_to_t(double sigma, const std::vector<float>& log_sigmas) {
  // numpy's value-based casting makes log(sigma) (a 0-d float64) meet the float32
  // log_sigmas as float32: distances and the weight w are float32, t is float64.
  const float log_sigma = float(std::log(std::max(sigma, 1e-10)));
  const int64_t n = int64_t(log_sigmas.size());
  // cumsum(dists >= 0).argmax(): the last index whose log sigma is <= log_sigma (0 if none).
  int64_t low = 0;
  for (int64_t i = 0; i < n; ++i)
    if (log_sigma - log_sigmas[size_t(i)] >= 0.0f) low = i;
  low = std::min(low, n - 2);
  const float lo = log_sigmas[size_t(low)], hi = log_sigmas[size_t(low + 1)];
  float w = (lo - log_sigma) / (lo - hi);
  w = std::clamp(w, 0.0f, 1.0f);
  return double(1.0f - w) * double(low) + double(w) * double(low + 1);
}

TrainSigmas::TrainSigmas(const std::vector<float>& alphas_cumprod) : sigma(train_sigmas(alphas_cumprod)) {
  log_sigma.resize(sigma.size());
  for (size_t i = 0; i < sigma.size(); ++i) log_sigma[i] = std::log(sigma[i]);
}

std::vector<double> TrainSigmas::at_timesteps(const std::vector<double>& timesteps) const {
  std::vector<double> s;
  for (double t : timesteps) s.push_back(interp_index(t, sigma));
  return s;
}

std::vector<double> TrainSigmas::timesteps_of(const std::vector<double>& sigmas) const {
  std::vector<double> t;
  for (double s : sigmas) t.push_back(sigma_to_t(s, log_sigma));
  return t;
}

float final_sigma(const std::string& final_sigmas_type, const std::vector<float>& alphas_cumprod) {
  if (final_sigmas_type == "zero") return 0.0f;
  return std::pow((1 - alphas_cumprod[0]) / alphas_cumprod[0], 0.5f);
}

std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int n) {
  const double rho = 7.0;
  const double min_inv = std::pow(sigma_min, 1 / rho), max_inv = std::pow(sigma_max, 1 / rho);
  std::vector<double> s(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const double ramp = n > 1 ? (i == n - 1 ? 1.0 : double(i) / double(n - 1)) : 0.0;
    s[size_t(i)] = std::pow(max_inv + ramp * (min_inv - max_inv), rho);
  }
  return s;
}

void threshold_sample(Tensor& x, double ratio, double max_value) {
  IA_CHECK(x.rank() >= 2, "thresholding needs a batched sample, got shape ", shape_str(x.shape()));
  const int64_t b = x.dim(0), row = x.numel() / std::max<int64_t>(b, 1);
  float* p = x.f32();
  std::vector<float> a(static_cast<size_t>(row));
  for (int64_t i = 0; i < b; ++i) {
    float* r = p + i * row;
    for (int64_t j = 0; j < row; ++j) a[size_t(j)] = std::fabs(r[j]);
    std::sort(a.begin(), a.end());
    // torch.quantile, linear interpolation between the two nearest ranks.
    const double rank = ratio * double(row - 1);
    const int64_t lo = int64_t(std::floor(rank)), hi = int64_t(std::ceil(rank));
    const float w = float(rank - double(lo));
    float s = a[size_t(lo)] + w * (a[size_t(hi)] - a[size_t(lo)]);
    s = std::clamp(s, 1.0f, float(max_value));
    for (int64_t j = 0; j < row; ++j) r[j] = std::clamp(r[j], -s, s) / s;
  }
}

int index_for_timestep(const std::vector<double>& schedule, double t) {
  int first = -1;
  for (size_t i = 0; i < schedule.size(); ++i) {
    if (schedule[i] != t) continue;
    if (first >= 0) return int(i);
    first = int(i);
  }
  if (first >= 0) return first;
  // Fractional (Karras) timesteps computed by another implementation (numpy's float32
  // log is not correctly rounded) can differ in the last bits: accept the nearest
  // scheduled timestep within 1e-5 relative.
  double best = INFINITY;
  for (size_t i = 0; i < schedule.size(); ++i) {
    const double d = std::fabs(schedule[i] - t);
    if (d <= 1e-5 * std::max(1.0, std::fabs(t)) && d < best) {
      best = d;
      first = int(i);
    }
  }
  return first;
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  IA_CHECK(a.shape() == b.shape(), what, ": shape ", shape_str(a.shape()), " does not match the sample's ",
           shape_str(b.shape()));
}

Tensor f32_contiguous(const Tensor& t) {
  IA_CHECK(t.defined(), "scheduler: undefined tensor");
  return t.dtype() == DType::F32 ? t : t.to_f32();
}

Tensor step_noise(const StepOptions& opts, const Shape& shape, const char* who) {
  Tensor n;
  if (opts.noise && opts.noise->defined()) n = f32_contiguous(*opts.noise);
  else if (opts.draw) n = f32_contiguous(opts.draw(shape));
  else fail(who, ": this step draws noise but neither noise nor a generator was given");
  IA_CHECK(n.shape() == shape, who, ": noise shape ", shape_str(n.shape()), " != sample shape ", shape_str(shape));
  return n;
}

}  // namespace ia::diffusion

namespace ia::diffusion {

Tensor rowwise_combine(const Tensor& x_in, const Tensor& noise_in, const std::vector<float>& a,
                       const std::vector<float>& b) {
  const Tensor x = f32_contiguous(x_in), noise = f32_contiguous(noise_in);
  check_same_shape(noise, x, "add_noise: noise");
  IA_CHECK(x.rank() >= 1, "add_noise: sample has no batch dimension");
  const int64_t rows = x.dim(0);
  IA_CHECK(int64_t(a.size()) == rows || a.size() == 1, "add_noise: ", a.size(), " timesteps for a batch of ", rows);
  const int64_t per = rows ? x.numel() / rows : 0;
  Tensor out = Tensor::f32(x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float ca = a.size() == 1 ? a[0] : a[size_t(r)], cb = b.size() == 1 ? b[0] : b[size_t(r)];
    const float* px = x.f32() + r * per;
    const float* pn = noise.f32() + r * per;
    float* po = out.f32() + r * per;
    for (int64_t i = 0; i < per; ++i) po[i] = ca * px[i] + cb * pn[i];
  }
  return out;
}

Tensor add_noise_by_alphas(const std::vector<float>& alphas_cumprod, const Tensor& original, const Tensor& noise,
                           const std::vector<double>& timesteps) {
  std::vector<float> a, b;
  for (double t : timesteps) {
    IA_CHECK(t >= 0 && t < double(alphas_cumprod.size()) && t == std::floor(t), "add_noise: timestep ", t,
             " is not an integer in [0, ", alphas_cumprod.size(), ")");
    const float ac = alphas_cumprod[size_t(t)];
    a.push_back(std::pow(ac, 0.5f));
    b.push_back(std::pow(1.0f - ac, 0.5f));
  }
  return rowwise_combine(original, noise, a, b);
}

}  // namespace ia::diffusion
