// DPMSolverMultistepScheduler (diffusers 0.30.3): DPM-Solver / DPM-Solver++ (and
// their SDE variants) of order 1-3, midpoint or heun second-order updates,
// Karras or Lu lambdas, lower-order final steps.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "diffusion_schedulers/schedule_common.h"
#include "diffusion_schedulers/scheduler_classes.h"

namespace ia::diffusion {

namespace {

struct AlphaSigma {
  float alpha, sigma, lambda;
};
AlphaSigma alpha_sigma(float s) {
  const float a = 1.0f / std::pow(s * s + 1.0f, 0.5f);
  const float sg = s * a;
  return {a, sg, std::log(a) - std::log(sg)};
}

class DPMSolverMultistepScheduler final : public Scheduler {
 public:
  explicit DPMSolverMultistepScheduler(const HFConfig& cfg) {
    TrainSchedule s = make_train_schedule(cfg, true);
    num_train_timesteps_ = s.num_train_timesteps;
    betas_ = std::move(s.betas);
    alphas_cumprod_ = std::move(s.alphas_cumprod);
    if (cfg.get_bool("rescale_betas_zero_snr", false)) alphas_cumprod_.back() = std::ldexp(1.0f, -24);
    order_ = int(cfg.get_int("solver_order", 2));
    IA_CHECK(order_ >= 1 && order_ <= 3, cfg.label(), ": solver_order ", order_, " is not 1, 2 or 3");
    prediction_ = config_choice(cfg, "prediction_type", "epsilon", {"epsilon", "sample", "v_prediction"});
    thresholding_ = cfg.get_bool("thresholding", false);
    ratio_ = cfg.get_float("dynamic_thresholding_ratio", 0.995);
    max_value_ = cfg.get_float("sample_max_value", 1.0);
    algorithm_ = cfg.get_string("algorithm_type", "dpmsolver++");
    if (algorithm_ == "deis") algorithm_ = "dpmsolver++";  // diffusers re-registers deis as dpmsolver++
    IA_CHECK(algorithm_ == "dpmsolver" || algorithm_ == "dpmsolver++" || algorithm_ == "sde-dpmsolver" ||
                 algorithm_ == "sde-dpmsolver++",
             cfg.label(), ": algorithm_type '", algorithm_,
             "' is not supported (one of: dpmsolver, dpmsolver++, sde-dpmsolver, sde-dpmsolver++, deis)");
    solver_type_ = cfg.get_string("solver_type", "midpoint");
    if (solver_type_ == "logrho" || solver_type_ == "bh1" || solver_type_ == "bh2") solver_type_ = "midpoint";
    IA_CHECK(solver_type_ == "midpoint" || solver_type_ == "heun", cfg.label(), ": solver_type '", solver_type_,
             "' is not supported (one of: midpoint, heun)");
    lower_order_final_ = cfg.get_bool("lower_order_final", true);
    euler_at_final_ = cfg.get_bool("euler_at_final", false);
    karras_ = cfg.get_bool("use_karras_sigmas", false);
    lu_ = cfg.get_bool("use_lu_lambdas", false);
    final_sigmas_ = config_choice(cfg, "final_sigmas_type", "zero", {"zero", "sigma_min"});
    IA_CHECK(!(plus() == false && final_sigmas_ == "zero"), cfg.label(), ": final_sigmas_type 'zero' needs algorithm_type ",
             "dpmsolver++ or sde-dpmsolver++ (got ", algorithm_, ")");
    lambda_min_clipped_ = cfg.get_float("lambda_min_clipped", -INFINITY);
    variance_type_ = cfg.get_string("variance_type", "");
    spacing_ = config_choice(cfg, "timestep_spacing", "linspace", {"linspace", "leading", "trailing"});
    steps_offset_ = int(cfg.get_int("steps_offset", 0));
    sigmas_ = train_sigmas(alphas_cumprod_);
    for (int t = num_train_timesteps_ - 1; t >= 0; --t) timesteps_.push_back(t);
  }
  const char* class_name() const override { return "DPMSolverMultistepScheduler"; }

  void set_timesteps(int n) override {
    check_steps(n);
    const int N = num_train_timesteps_;
    // lambda_t = log(alpha_t) - log(sigma_t); clipped_idx = searchsorted(flip(lambda_t), lambda_min_clipped).
    std::vector<float> lambda(alphas_cumprod_.size());
    for (size_t i = 0; i < lambda.size(); ++i)
      lambda[i] = std::log(std::sqrt(alphas_cumprod_[i])) - std::log(std::sqrt(1.0f - alphas_cumprod_[i]));
    int clipped = 0;
    for (size_t i = lambda.size(); i-- > 0;)
      if (double(lambda[i]) < lambda_min_clipped_) ++clipped;
      else break;
    const int last = N - clipped;
    std::vector<double> ts;
    if (spacing_ == "linspace") {
      // np.linspace(0, last - 1, n + 1).round()[::-1][:-1]
      const double stop = last - 1, step = stop / double(n);
      for (int i = n; i >= 1; --i) ts.push_back(std::nearbyint(i == n ? stop : double(i) * step));
    } else if (spacing_ == "leading") {
      const int ratio = last / (n + 1);
      for (int i = n; i >= 1; --i) ts.push_back(double(int64_t(i) * ratio + steps_offset_));
    } else {
      const double ratio = double(N) / double(n);
      const int64_t count = int64_t(std::ceil(double(last) / ratio));
      for (int64_t i = 0; i < count; ++i) ts.push_back(std::nearbyint(double(last) - double(i) * ratio) - 1);
    }
    const TrainSigmas train(alphas_cumprod_);
    std::vector<double> sig;
    if (karras_ || lu_) {
      if (karras_) {
        sig = karras_sigmas(train.sigma.front(), train.sigma.back(), n);
      } else {
        const double lmin = train.log_sigma.front(), lmax = train.log_sigma.back();
        for (int i = 0; i < n; ++i) {
          const double ramp = n > 1 ? (i == n - 1 ? 1.0 : double(i) / double(n - 1)) : 0.0;
          sig.push_back(std::exp(lmax + ramp * (lmin - lmax)));
        }
      }
      ts = train.timesteps_of(sig);
      for (double& t : ts) t = std::nearbyint(t);  // DPM-Solver keeps integer timesteps
    } else {
      sig = train.at_timesteps(ts);
    }
    const float last_sigma = final_sigma(final_sigmas_, alphas_cumprod_);
    sigmas_.clear();
    for (double s : sig) sigmas_.push_back(float(s));
    sigmas_.push_back(last_sigma);
    timesteps_ = ts;
    timesteps_dtype_ = TimestepDType::I64;
    num_inference_steps_ = int(ts.size());
    model_outputs_.assign(size_t(order_), Tensor());
    lower_order_nums_ = 0;
    step_index_ = -1;
    begin_index_ = -1;
  }

  StepOutput step(const Tensor& model_output_in, double timestep, const Tensor& sample_in,
                  const StepOptions& opts) override {
    IA_CHECK(num_inference_steps_ > 0, "DPMSolverMultistepScheduler.step: call set_timesteps first");
    if (step_index_ < 0) init_step_index(timestep);
    IA_CHECK(size_t(step_index_) + 1 < sigmas_.size(), "DPMSolverMultistepScheduler.step: called more times than scheduled");
    const Tensor mo = f32_contiguous(model_output_in), x = f32_contiguous(sample_in);
    const int nts = int(timesteps_.size());
    const bool lof = step_index_ == nts - 1 &&
                     (euler_at_final_ || (lower_order_final_ && nts < 15) || final_sigmas_ == "zero");
    const bool los = step_index_ == nts - 2 && lower_order_final_ && nts < 15;
    Tensor converted = convert_model_output(mo, x);
    for (int i = 0; i + 1 < order_; ++i) model_outputs_[size_t(i)] = model_outputs_[size_t(i) + 1];
    model_outputs_.back() = converted;
    Tensor noise;
    if (sde()) noise = step_noise(opts, x.shape(), "DPMSolverMultistepScheduler.step");
    Tensor prev;
    if (order_ == 1 || lower_order_nums_ < 1 || lof) prev = first_order(converted, x, noise);
    else if (order_ == 2 || lower_order_nums_ < 2 || los) prev = second_order(x, noise);
    else prev = third_order(x);
    if (lower_order_nums_ < order_) ++lower_order_nums_;
    ++step_index_;
    return {prev, Tensor()};
  }

  Tensor add_noise(const Tensor& original, const Tensor& noise, const std::vector<double>& timesteps) override {
    std::vector<float> a, b;
    for (double t : timesteps) {
      int idx;
      if (begin_index_ < 0) {
        idx = index_for_timestep(timesteps_, t);
        if (idx < 0) idx = int(timesteps_.size()) - 1;
      } else {
        idx = step_index_ >= 0 ? step_index_ : begin_index_;
      }
      const AlphaSigma as = alpha_sigma(sigmas_.at(size_t(idx)));
      a.push_back(as.alpha);
      b.push_back(as.sigma);
    }
    return rowwise_combine(original, noise, a, b);
  }

  void set_begin_index(int i) override { begin_index_ = i; }

 private:
  bool plus() const { return algorithm_ == "dpmsolver++" || algorithm_ == "sde-dpmsolver++"; }
  bool sde() const { return algorithm_ == "sde-dpmsolver" || algorithm_ == "sde-dpmsolver++"; }

  void init_step_index(double timestep) {
    if (begin_index_ >= 0) {
      step_index_ = begin_index_;
      return;
    }
    step_index_ = index_for_timestep(timesteps_, timestep);
    if (step_index_ < 0) step_index_ = int(timesteps_.size()) - 1;
  }

  // Data prediction x0 (++ variants) or noise prediction epsilon.
  Tensor convert_model_output(const Tensor& mo_in, const Tensor& x) {
    Tensor mo = mo_in;
    const bool learned = variance_type_ == "learned" || variance_type_ == "learned_range";
    if (learned && prediction_ == "epsilon") mo = first_channels(mo_in, 3);
    check_same_shape(mo, x, "DPMSolverMultistepScheduler.step: model_output");
    const AlphaSigma as = alpha_sigma(sigmas_[size_t(step_index_)]);
    const int64_t n = x.numel();
    const float *m = mo.f32(), *s = x.f32();
    Tensor out = Tensor::f32(x.shape());
    float* o = out.f32();
    const bool eps_pred = prediction_ == "epsilon", x0_pred = prediction_ == "sample";
    if (plus()) {
      for (int64_t i = 0; i < n; ++i) {
        if (eps_pred) o[i] = (s[i] - as.sigma * m[i]) / as.alpha;
        else if (x0_pred) o[i] = m[i];
        else o[i] = as.alpha * s[i] - as.sigma * m[i];
      }
      if (thresholding_) threshold_sample(out, ratio_, max_value_);
      return out;
    }
    for (int64_t i = 0; i < n; ++i) {
      if (eps_pred) o[i] = m[i];
      else if (x0_pred) o[i] = (s[i] - as.alpha * m[i]) / as.sigma;
      else o[i] = as.alpha * m[i] + as.sigma * s[i];
    }
    if (thresholding_) {
      Tensor x0 = Tensor::f32(x.shape());
      for (int64_t i = 0; i < n; ++i) x0.f32()[i] = (s[i] - as.sigma * o[i]) / as.alpha;
      threshold_sample(x0, ratio_, max_value_);
      for (int64_t i = 0; i < n; ++i) o[i] = (s[i] - as.alpha * x0.f32()[i]) / as.sigma;
    }
    return out;
  }

  static Tensor first_channels(const Tensor& t, int64_t c) {
    IA_CHECK(t.rank() >= 2 && t.dim(1) >= c, "DPMSolverMultistepScheduler: learned variance output has ",
             t.rank() >= 2 ? t.dim(1) : 0, " channels, fewer than ", c);
    Shape sh = t.shape();
    const int64_t inner = t.numel() / (sh[0] * sh[1]);
    Shape out_sh = sh;
    out_sh[1] = c;
    Tensor out = Tensor::f32(out_sh);
    for (int64_t b = 0; b < sh[0]; ++b)
      std::copy(t.f32() + b * sh[1] * inner, t.f32() + b * sh[1] * inner + c * inner, out.f32() + b * c * inner);
    return out;
  }

  Tensor first_order(const Tensor& m0, const Tensor& x, const Tensor& noise) const {
    const AlphaSigma t = alpha_sigma(sigmas_[size_t(step_index_) + 1]);
    const AlphaSigma s0 = alpha_sigma(sigmas_[size_t(step_index_)]);
    const float h = t.lambda - s0.lambda;
    float cx, cm, cz = 0.0f;
    if (algorithm_ == "dpmsolver++") {
      cx = t.sigma / s0.sigma;
      cm = -(t.alpha * (std::exp(-h) - 1.0f));
    } else if (algorithm_ == "dpmsolver") {
      cx = t.alpha / s0.alpha;
      cm = -(t.sigma * (std::exp(h) - 1.0f));
    } else if (algorithm_ == "sde-dpmsolver++") {
      cx = t.sigma / s0.sigma * std::exp(-h);
      cm = t.alpha * (1 - std::exp(-2.0f * h));
      cz = t.sigma * std::sqrt(1.0f - std::exp(-2 * h));
    } else {
      cx = t.alpha / s0.alpha;
      cm = -2.0f * (t.sigma * (std::exp(h) - 1.0f));
      cz = t.sigma * std::sqrt(std::exp(2 * h) - 1.0f);
    }
    Tensor out = Tensor::f32(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      float v = cx * x.f32()[i] + cm * m0.f32()[i];
      if (cz != 0.0f) v += cz * noise.f32()[i];
      out.f32()[i] = v;
    }
    return out;
  }

  Tensor second_order(const Tensor& x, const Tensor& noise) const {
    const AlphaSigma t = alpha_sigma(sigmas_[size_t(step_index_) + 1]);
    const AlphaSigma s0 = alpha_sigma(sigmas_[size_t(step_index_)]);
    const AlphaSigma s1 = alpha_sigma(sigmas_[size_t(step_index_) - 1]);
    const Tensor& m0 = model_outputs_[size_t(order_) - 1];
    const Tensor& m1 = model_outputs_[size_t(order_) - 2];
    const float h = t.lambda - s0.lambda, h0 = s0.lambda - s1.lambda;
    const float r0 = h0 / h;
    const float inv_r0 = 1.0f / r0;
    // x_t = cx * x + c0 * D0 + c1 * D1 (+ cz * noise), D0 = m0, D1 = (m0 - m1) / r0.
    float cx, c0, c1, cz = 0.0f;
    const bool mid = solver_type_ == "midpoint";
    if (algorithm_ == "dpmsolver++") {
      cx = t.sigma / s0.sigma;
      c0 = -(t.alpha * (std::exp(-h) - 1.0f));
      c1 = mid ? -0.5f * (t.alpha * (std::exp(-h) - 1.0f)) : (t.alpha * ((std::exp(-h) - 1.0f) / h + 1.0f));
    } else if (algorithm_ == "dpmsolver") {
      cx = t.alpha / s0.alpha;
      c0 = -(t.sigma * (std::exp(h) - 1.0f));
      c1 = mid ? -0.5f * (t.sigma * (std::exp(h) - 1.0f)) : -(t.sigma * ((std::exp(h) - 1.0f) / h - 1.0f));
    } else if (algorithm_ == "sde-dpmsolver++") {
      cx = t.sigma / s0.sigma * std::exp(-h);
      c0 = t.alpha * (1 - std::exp(-2.0f * h));
      c1 = mid ? 0.5f * (t.alpha * (1 - std::exp(-2.0f * h)))
               : (t.alpha * ((1.0f - std::exp(-2.0f * h)) / (-2.0f * h) + 1.0f));
      cz = t.sigma * std::sqrt(1.0f - std::exp(-2 * h));
    } else {
      cx = t.alpha / s0.alpha;
      c0 = -2.0f * (t.sigma * (std::exp(h) - 1.0f));
      c1 = mid ? -(t.sigma * (std::exp(h) - 1.0f)) : -2.0f * (t.sigma * ((std::exp(h) - 1.0f) / h - 1.0f));
      cz = t.sigma * std::sqrt(std::exp(2 * h) - 1.0f);
    }
    Tensor out = Tensor::f32(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float d0 = m0.f32()[i], d1 = inv_r0 * (m0.f32()[i] - m1.f32()[i]);
      float v = cx * x.f32()[i] + c0 * d0 + c1 * d1;
      if (cz != 0.0f) v += cz * noise.f32()[i];
      out.f32()[i] = v;
    }
    return out;
  }

  Tensor third_order(const Tensor& x) const {
    IA_CHECK(!sde(), "DPMSolverMultistepScheduler: third-order updates are not defined for ", algorithm_);
    const AlphaSigma t = alpha_sigma(sigmas_[size_t(step_index_) + 1]);
    const AlphaSigma s0 = alpha_sigma(sigmas_[size_t(step_index_)]);
    const AlphaSigma s1 = alpha_sigma(sigmas_[size_t(step_index_) - 1]);
    const AlphaSigma s2 = alpha_sigma(sigmas_[size_t(step_index_) - 2]);
    const Tensor& m0 = model_outputs_[2];
    const Tensor& m1 = model_outputs_[1];
    const Tensor& m2 = model_outputs_[0];
    const float h = t.lambda - s0.lambda, h0 = s0.lambda - s1.lambda, h1 = s1.lambda - s2.lambda;
    const float r0 = h0 / h, r1 = h1 / h;
    float cx, c0, c1, c2;
    if (algorithm_ == "dpmsolver++") {
      cx = t.sigma / s0.sigma;
      c0 = -(t.alpha * (std::exp(-h) - 1.0f));
      c1 = t.alpha * ((std::exp(-h) - 1.0f) / h + 1.0f);
      c2 = -(t.alpha * ((std::exp(-h) - 1.0f + h) / (h * h) - 0.5f));
    } else {
      cx = t.alpha / s0.alpha;
      c0 = -(t.sigma * (std::exp(h) - 1.0f));
      c1 = -(t.sigma * ((std::exp(h) - 1.0f) / h - 1.0f));
      c2 = -(t.sigma * ((std::exp(h) - 1.0f - h) / (h * h) - 0.5f));
    }
    Tensor out = Tensor::f32(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float a = m0.f32()[i], b = m1.f32()[i], c = m2.f32()[i];
      const float d10 = (1.0f / r0) * (a - b), d11 = (1.0f / r1) * (b - c);
      const float d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
      const float d2 = (1.0f / (r0 + r1)) * (d10 - d11);
      out.f32()[i] = cx * x.f32()[i] + c0 * a + c1 * d1 + c2 * d2;
    }
    return out;
  }

  int order_ = 2;
  std::string prediction_, algorithm_, solver_type_, final_sigmas_, variance_type_, spacing_;
  bool thresholding_ = false, lower_order_final_ = true, euler_at_final_ = false, karras_ = false, lu_ = false;
  double ratio_ = 0.995, max_value_ = 1.0, lambda_min_clipped_ = -INFINITY;
  int steps_offset_ = 0;
  std::vector<Tensor> model_outputs_;
  int lower_order_nums_ = 0;
  int step_index_ = -1, begin_index_ = -1;
};

}  // namespace

std::unique_ptr<Scheduler> make_dpm_multistep_scheduler(const HFConfig& cfg) {
  return std::make_unique<DPMSolverMultistepScheduler>(cfg);
}

}  // namespace ia::diffusion
