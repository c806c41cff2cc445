// PNDMScheduler (diffusers 0.30.3): pseudo Runge-Kutta warm-up steps followed by
// linear multistep (PLMS); with skip_prk_steps only PLMS, whose second step
// repeats a timestep.
#include <cmath>
#include <deque>

#include "core/error.h"
#include "diffusion_schedulers/schedule_common.h"
#include "diffusion_schedulers/scheduler_classes.h"

namespace ia::diffusion {

namespace {

// out = sum_k c[k] * t[k] over tensors of one shape.
Tensor combine(std::initializer_list<std::pair<float, const Tensor*>> terms) {
  const Tensor& first = *terms.begin()->second;
  Tensor out = Tensor::zeros(DType::F32, first.shape());
  float* o = out.f32();
  const int64_t n = out.numel();
  for (const auto& [c, t] : terms) {
    const float* p = t->f32();
    for (int64_t i = 0; i < n; ++i) o[i] += c * p[i];
  }
  return out;
}

class PNDMScheduler final : public Scheduler {
 public:
  explicit PNDMScheduler(const HFConfig& cfg) {
    // PNDM's __init__ takes no rescale_betas_zero_snr: the key is ignored.
    TrainSchedule s = make_train_schedule(cfg, /*allow_rescale=*/false);
    num_train_timesteps_ = s.num_train_timesteps;
    betas_ = std::move(s.betas);
    alphas_cumprod_ = std::move(s.alphas_cumprod);
    skip_prk_ = cfg.get_bool("skip_prk_steps", false);
    final_alpha_cumprod_ = cfg.get_bool("set_alpha_to_one", false) ? 1.0f : alphas_cumprod_[0];
    prediction_ = config_choice(cfg, "prediction_type", "epsilon", {"epsilon", "v_prediction"});
    spacing_ = config_choice(cfg, "timestep_spacing", "leading", {"linspace", "leading", "trailing"});
    steps_offset_ = int(cfg.get_int("steps_offset", 0));
  }
  const char* class_name() const override { return "PNDMScheduler"; }

  void set_timesteps(int n) override {
    check_steps(n);
    num_inference_steps_ = n;
    // Ascending base timesteps (spaced_timesteps gives them descending).
    std::vector<double> base = spaced_timesteps(spacing_, num_train_timesteps_, n, steps_offset_, true);
    std::reverse(base.begin(), base.end());
    prk_.clear();
    timesteps_.clear();
    if (skip_prk_) {
      std::vector<double> plms(base.begin(), base.end() - 1);
      if (base.size() >= 2) plms.push_back(base[base.size() - 2]);
      plms.push_back(base.back());
      timesteps_.assign(plms.rbegin(), plms.rend());
    } else {
      IA_CHECK(base.size() >= 4, "PNDMScheduler: PRK warm-up needs at least 4 inference steps, got ", n);
      const double half = double(num_train_timesteps_ / n / 2);
      std::vector<double> rep;
      for (size_t i = base.size() - 4; i < base.size(); ++i) {
        rep.push_back(base[i]);
        rep.push_back(base[i] + half);
      }
      rep.pop_back();  // prk[:-1]
      std::vector<double> twice;
      for (double v : rep) {
        twice.push_back(v);
        twice.push_back(v);
      }
      std::vector<double> mid(twice.begin() + 1, twice.end() - 1);
      prk_.assign(mid.rbegin(), mid.rend());
      timesteps_ = prk_;
      for (size_t i = base.size() - 3; i-- > 0;) timesteps_.push_back(base[i]);
    }
    timesteps_dtype_ = TimestepDType::I64;
    ets_.clear();
    counter_ = 0;
    cur_model_output_ = Tensor();
    cur_sample_ = Tensor();
  }

  StepOutput step(const Tensor& model_output_in, double timestep, const Tensor& sample_in,
                  const StepOptions&) override {
    IA_CHECK(num_inference_steps_ > 0, "PNDMScheduler.step: call set_timesteps first");
    const Tensor mo = f32_contiguous(model_output_in), x = f32_contiguous(sample_in);
    check_same_shape(mo, x, "PNDMScheduler.step: model_output");
    IA_CHECK(timestep == std::floor(timestep), "PNDMScheduler.step: timestep ", timestep, " is not an integer");
    if (counter_ < int64_t(prk_.size()) && !skip_prk_) return {step_prk(mo, int64_t(timestep), x), Tensor()};
    return {step_plms(mo, int64_t(timestep), x), Tensor()};
  }

  Tensor add_noise(const Tensor& original, const Tensor& noise, const std::vector<double>& timesteps) override {
    return add_noise_by_alphas(alphas_cumprod_, original, noise, timesteps);
  }

 private:
  Tensor step_prk(const Tensor& mo, int64_t timestep, const Tensor& x) {
    const int64_t diff = counter_ % 2 ? 0 : num_train_timesteps_ / num_inference_steps_ / 2;
    const int64_t prev_t = timestep - diff;
    const int64_t t = int64_t(prk_[size_t(counter_ / 4 * 4)]);
    Tensor model_output = mo;
    if (counter_ % 4 == 0) {
      cur_model_output_ = combine({{1.0f / 6.0f, &mo}});
      ets_.push_back(mo);
      cur_sample_ = x;
    } else if ((counter_ - 1) % 4 == 0 || (counter_ - 2) % 4 == 0) {
      cur_model_output_ = combine({{1.0f, &cur_model_output_}, {1.0f / 3.0f, &mo}});
    } else {
      model_output = combine({{1.0f, &cur_model_output_}, {1.0f / 6.0f, &mo}});
      cur_model_output_ = Tensor();
    }
    const Tensor& cur = cur_sample_.defined() ? cur_sample_ : x;
    Tensor prev = prev_sample(cur, t, prev_t, model_output);
    ++counter_;
    return prev;
  }

  Tensor step_plms(const Tensor& mo, int64_t timestep, const Tensor& x_in) {
    IA_CHECK(skip_prk_ || ets_.size() >= 3, "PNDMScheduler: PLMS steps need the PRK warm-up steps first");
    const int64_t stride = num_train_timesteps_ / num_inference_steps_;
    int64_t prev_t = timestep - stride;
    if (counter_ != 1) {
      while (ets_.size() > 3) ets_.pop_front();
      ets_.push_back(mo);
    } else {
      prev_t = timestep;
      timestep = timestep + stride;
    }
    Tensor model_output, x = x_in;
    const size_t k = ets_.size();
    if (k == 1 && counter_ == 0) {
      model_output = mo;
      cur_sample_ = x_in;
    } else if (k == 1 && counter_ == 1) {
      model_output = combine({{0.5f, &mo}, {0.5f, &ets_.back()}});
      x = cur_sample_;
      cur_sample_ = Tensor();
    } else if (k == 2) {
      model_output = combine({{1.5f, &ets_[1]}, {-0.5f, &ets_[0]}});
    } else if (k == 3) {
      model_output = combine({{23.0f / 12, &ets_[2]}, {-16.0f / 12, &ets_[1]}, {5.0f / 12, &ets_[0]}});
    } else {
      model_output = combine({{55.0f / 24, &ets_[3]}, {-59.0f / 24, &ets_[2]}, {37.0f / 24, &ets_[1]},
                              {-9.0f / 24, &ets_[0]}});
    }
    Tensor prev = prev_sample(x, timestep, prev_t, model_output);
    ++counter_;
    return prev;
  }

  // Formula (9) of the PNDM paper.
  Tensor prev_sample(const Tensor& x, int64_t t, int64_t prev_t, const Tensor& mo_in) const {
    IA_CHECK(t >= 0 && t < num_train_timesteps_, "PNDMScheduler.step: timestep ", t, " out of range");
    const float a_t = alphas_cumprod_[size_t(t)];
    const float a_prev = prev_t >= 0 ? alphas_cumprod_[size_t(prev_t)] : final_alpha_cumprod_;
    const float b_t = 1.0f - a_t, b_prev = 1.0f - a_prev;
    const float sample_coeff = std::pow(a_prev / a_t, 0.5f);
    const float denom = a_t * std::pow(b_prev, 0.5f) + std::pow(a_t * b_t * a_prev, 0.5f);
    const float diff = a_prev - a_t;
    const float sa = std::pow(a_t, 0.5f), sb = std::pow(b_t, 0.5f);
    Tensor out = Tensor::f32(x.shape());
    const float *s = x.f32(), *m = mo_in.f32();
    float* o = out.f32();
    const bool v = prediction_ == "v_prediction";
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float e = v ? sa * m[i] + sb * s[i] : m[i];
      o[i] = sample_coeff * s[i] - diff * e / denom;
    }
    return out;
  }

  bool skip_prk_ = false;
  float final_alpha_cumprod_ = 1.0f;
  int steps_offset_ = 0;
  std::string prediction_, spacing_;
  std::vector<double> prk_;
  std::deque<Tensor> ets_;
  int64_t counter_ = 0;
  Tensor cur_model_output_, cur_sample_;
};

}  // namespace

std::unique_ptr<Scheduler> make_pndm_scheduler(const HFConfig& cfg) { return std::make_unique<PNDMScheduler>(cfg); }

}  // namespace ia::diffusion
