// LMSDiscreteScheduler (diffusers 0.30.3): linear multistep over sigmas. Its
// coefficients are integrals of Lagrange basis polynomials between consecutive
// sigmas (diffusers: scipy.integrate.quad); the integrand is a polynomial of
// degree order-1, so Gauss-Legendre quadrature with enough nodes is exact.
#include <algorithm>
#include <cmath>
#include <deque>

#include "core/error.h"
#include "diffusion_schedulers/schedule_common.h"
#include "diffusion_schedulers/scheduler_classes.h"

namespace ia::diffusion {

namespace {

// Nodes and weights of n-point Gauss-Legendre quadrature on [-1, 1] (Newton on P_n).
void gauss_legendre(int n, std::vector<double>& x, std::vector<double>& w) {
  x.assign(size_t(n), 0.0);
  w.assign(size_t(n), 0.0);
  for (int i = 0; i < n; ++i) {
    double z = std::cos(M_PI * (i + 0.75) / (n + 0.5));
    double dp = 1.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = z;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1.0);
      const double dz = p1 / dp;
      z -= dz;
      if (std::fabs(dz) < 1e-15) break;
    }
    x[size_t(i)] = z;
    w[size_t(i)] = 2.0 / ((1.0 - z * z) * dp * dp);
  }
}

class LMSDiscreteScheduler final : public Scheduler {
 public:
  explicit LMSDiscreteScheduler(const HFConfig& cfg) {
    // LMS's __init__ takes no rescale_betas_zero_snr: the key is ignored.
    TrainSchedule s = make_train_schedule(cfg, /*allow_rescale=*/false);
    num_train_timesteps_ = s.num_train_timesteps;
    betas_ = std::move(s.betas);
    alphas_cumprod_ = std::move(s.alphas_cumprod);
    karras_ = cfg.get_bool("use_karras_sigmas", false);
    prediction_ = config_choice(cfg, "prediction_type", "epsilon", {"epsilon", "v_prediction", "sample"});
    spacing_ = config_choice(cfg, "timestep_spacing", "linspace", {"linspace", "leading", "trailing"});
    steps_offset_ = int(cfg.get_int("steps_offset", 0));
    set_timesteps(num_train_timesteps_);  // as diffusers' __init__ does
    num_inference_steps_ = 0;
  }
  const char* class_name() const override { return "LMSDiscreteScheduler"; }

  float init_noise_sigma() const override {
    const float mx = *std::max_element(sigmas_.begin(), sigmas_.end());
    if (spacing_ == "linspace" || spacing_ == "trailing") return mx;
    return std::pow(mx * mx + 1.0f, 0.5f);
  }

  void set_timesteps(int n) override {
    check_steps(n);
    num_inference_steps_ = n;
    std::vector<double> ts = spaced_timesteps(spacing_, num_train_timesteps_, n, steps_offset_, false);
    const std::vector<float> train = train_sigmas(alphas_cumprod_);
    std::vector<float> log_sigmas(train.size());
    for (size_t i = 0; i < train.size(); ++i) log_sigmas[i] = std::log(train[i]);
    std::vector<double> sig;
    for (double t : ts) sig.push_back(interp_index(t, train));
    timesteps_dtype_ = TimestepDType::F32;
    if (karras_) {
      sig = karras_sigmas(sig.back(), sig.front(), n);
      ts.clear();
      for (double s : sig) ts.push_back(sigma_to_t(s, log_sigmas));
      timesteps_dtype_ = TimestepDType::F64;  // diffusers keeps these float64
    }
    sigmas_.clear();
    for (double s : sig) sigmas_.push_back(float(s));
    sigmas_.push_back(0.0f);
    timesteps_.clear();
    for (double t : ts) timesteps_.push_back(timesteps_dtype_ == TimestepDType::F32 ? double(float(t)) : t);
    step_index_ = -1;
    begin_index_ = -1;
    derivatives_.clear();
  }

  Tensor scale_model_input(const Tensor& sample_in, double timestep) override {
    if (step_index_ < 0) init_step_index(timestep);
    const float sigma = sigmas_.at(size_t(step_index_));
    const float d = std::pow(sigma * sigma + 1.0f, 0.5f);
    const Tensor x = f32_contiguous(sample_in);
    Tensor out = Tensor::f32(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) out.f32()[i] = x.f32()[i] / d;
    return out;
  }

  StepOutput step(const Tensor& model_output_in, double timestep, const Tensor& sample_in,
                  const StepOptions&) override {
    IA_CHECK(num_inference_steps_ > 0, "LMSDiscreteScheduler.step: call set_timesteps first");
    if (step_index_ < 0) init_step_index(timestep);
    IA_CHECK(size_t(step_index_) + 1 < sigmas_.size(), "LMSDiscreteScheduler.step: called more times than scheduled");
    const Tensor mo = f32_contiguous(model_output_in), x = f32_contiguous(sample_in);
    check_same_shape(mo, x, "LMSDiscreteScheduler.step: model_output");
    const float sigma = sigmas_[size_t(step_index_)];
    const int64_t n = x.numel();
    Tensor x0 = Tensor::f32(x.shape()), deriv = Tensor::f32(x.shape());
    const float *s = x.f32(), *m = mo.f32();
    float *px0 = x0.f32(), *pd = deriv.f32();
    const float vden = std::pow(sigma * sigma + 1.0f, 0.5f), v2 = sigma * sigma + 1.0f;
    const bool eps_pred = prediction_ == "epsilon", v_pred = prediction_ == "v_prediction";
    for (int64_t i = 0; i < n; ++i) {
      float p0;
      if (eps_pred) p0 = s[i] - sigma * m[i];
      else if (v_pred) p0 = m[i] * (-sigma / vden) + (s[i] / v2);
      else p0 = m[i];
      px0[i] = p0;
      pd[i] = (s[i] - p0) / sigma;
    }
    constexpr int kOrder = 4;
    derivatives_.push_back(deriv);
    if (derivatives_.size() > size_t(kOrder)) derivatives_.pop_front();
    const int order = std::min(step_index_ + 1, kOrder);
    Tensor prev = x.clone();
    float* pp = prev.f32();
    for (int k = 0; k < order; ++k) {
      const float c = float(lms_coefficient(order, step_index_, k));
      // coefficients pair with derivatives newest first.
      const float* d = derivatives_[derivatives_.size() - 1 - size_t(k)].f32();
      for (int64_t i = 0; i < n; ++i) pp[i] += c * d[i];
    }
    ++step_index_;
    return {prev, x0};
  }

  Tensor add_noise(const Tensor& original, const Tensor& noise, const std::vector<double>& timesteps) override {
    std::vector<float> a, b;
    for (double t : timesteps) {
      int idx;
      if (begin_index_ < 0) {
        idx = index_for_timestep(timesteps_, t);
        IA_CHECK(idx >= 0, "LMSDiscreteScheduler.add_noise: timestep ", t, " is not in the schedule");
      } else {
        idx = step_index_ >= 0 ? step_index_ : begin_index_;
      }
      a.push_back(1.0f);
      b.push_back(sigmas_.at(size_t(idx)));
    }
    return rowwise_combine(original, noise, a, b);
  }

  void set_begin_index(int i) override { begin_index_ = i; }

 private:
  // integral over [sigma_t, sigma_{t+1}] of the Lagrange basis polynomial of
  // node t - current among nodes sigma_t, ..., sigma_{t-order+1}.
  double lms_coefficient(int order, int t, int current) const {
    auto basis = [&](double tau) {
      double prod = 1.0;
      for (int k = 0; k < order; ++k) {
        if (k == current) continue;
        prod *= (tau - sigmas_[size_t(t - k)]) / (double(sigmas_[size_t(t - current)]) - sigmas_[size_t(t - k)]);
      }
      return prod;
    };
    const double a = sigmas_[size_t(t)], b = sigmas_[size_t(t + 1)];
    std::vector<double> x, w;
    gauss_legendre(std::max(order, 2), x, w);
    double sum = 0.0;
    for (size_t i = 0; i < x.size(); ++i) sum += w[i] * basis(0.5 * (b - a) * x[i] + 0.5 * (a + b));
    return 0.5 * (b - a) * sum;
  }

  void init_step_index(double timestep) {
    if (begin_index_ >= 0) {
      step_index_ = begin_index_;
      return;
    }
    step_index_ = index_for_timestep(timesteps_, timestep);
    IA_CHECK(step_index_ >= 0, "LMSDiscreteScheduler: timestep ", timestep, " is not in the schedule");
  }

  bool karras_ = false;
  std::string prediction_, spacing_;
  int steps_offset_ = 0;
  int step_index_ = -1, begin_index_ = -1;
  std::deque<Tensor> derivatives_;
};

}  // namespace

std::unique_ptr<Scheduler> make_lms_scheduler(const HFConfig& cfg) { return std::make_unique<LMSDiscreteScheduler>(cfg); }

}  // namespace ia::diffusion
