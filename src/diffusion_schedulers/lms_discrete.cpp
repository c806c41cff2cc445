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
#include "diffusion_schedulers/sigma_scheduler.h"

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

class LMSDiscreteScheduler final : public SigmaScheduler {
 public:
  explicit LMSDiscreteScheduler(const HFConfig& cfg) {
    // LMS's __init__ takes no rescale_betas_zero_snr: the key is ignored.
    read_common(cfg, /*allow_rescale=*/false);
    karras_ = cfg.get_bool("use_karras_sigmas", false);
    prediction_ = config_choice(cfg, "prediction_type", "epsilon", {"epsilon", "v_prediction", "sample"});
    set_timesteps(num_train_timesteps_);  // as diffusers' __init__ does
    num_inference_steps_ = 0;
  }
  const char* class_name() const override { return "LMSDiscreteScheduler"; }

  void set_timesteps(int n) override {
    check_steps(n);
    num_inference_steps_ = n;
    std::vector<double> ts;
    set_sigmas(inference_sigmas(n, {/*log_linear=*/false, karras_}, ts), 0.0f);
    // diffusers keeps the timesteps it recomputes from Karras sigmas float64.
    set_timesteps_as(ts, karras_ ? TimestepDType::F64 : TimestepDType::F32);
    derivatives_.clear();
  }

  StepOutput step(const Tensor& model_output_in, double timestep, const Tensor& sample_in,
                  const StepOptions&) override {
    const auto [mo, x] = begin_step(model_output_in, timestep, sample_in);
    const float sigma = sigmas_[size_t(step_index_)];
    const int64_t n = x.numel();
    Tensor x0 = Tensor::f32(x.shape()), deriv = Tensor::f32(x.shape());
    const float *s = x.f32(), *m = mo.f32();
    float *px0 = x0.f32(), *pd = deriv.f32();
    const OriginalSample original(prediction_, sigma);
    for (int64_t i = 0; i < n; ++i) {
      const float p0 = original(s[i], m[i]);
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

  bool karras_ = false;
  std::string prediction_;
  std::deque<Tensor> derivatives_;
};

}  // namespace

std::unique_ptr<Scheduler> make_lms_scheduler(const HFConfig& cfg) { return std::make_unique<LMSDiscreteScheduler>(cfg); }

}  // namespace ia::diffusion
