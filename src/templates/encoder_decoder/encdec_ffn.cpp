// The dense feed-forward part of an encoder-decoder block: T5's DenseReluDense
// (wi -> act -> wo, or gated act(wi_0) * wi_1 -> wo, no biases) and BART's
// fc1 -> act -> fc2 (with biases). Other FFNs (switch_transformers' MoE) plug
// in through FeedForwardFactory.
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/encoder_decoder/encdec_model.h"

namespace ia {

namespace {

class DenseFFN : public EncDecFeedForward {
 public:
  DenseFFN(const EncDecParams& p, const Weights& w, int64_t ffn_dim) : gated_(p.gated_ffn), act_(p.act) {
    const int64_t D = p.d_model;
    if (gated_) {
      gate_ = Linear::load(w.pp(p.ffn_gate), D, ffn_dim, p.ffn_bias);
      up_ = Linear::load(w.pp(p.ffn_up), D, ffn_dim, p.ffn_bias);
    } else {
      in_ = Linear::load(w.pp(p.ffn_in), D, ffn_dim, p.ffn_bias);
    }
    out_ = Linear::load(w.pp(p.ffn_out), ffn_dim, D, p.ffn_bias);
    act_name_ = p.act_name;
  }

  void forward(const float* x, int64_t rows, float* y) override {
    const int64_t F = out_.in;
    if (mid_.size() < size_t(rows * F)) mid_.resize(size_t(rows * F));
    if (gated_) {
      if (lin_.size() < size_t(rows * F)) lin_.resize(size_t(rows * F));
      gate_.forward(x, rows, mid_.data());
      cpu::apply_act(act_, mid_.data(), rows * F);
      up_.forward(x, rows, lin_.data());
      cpu::mul_inplace(mid_.data(), lin_.data(), rows * F);
    } else {
      in_.forward(x, rows, mid_.data());
      cpu::apply_act(act_, mid_.data(), rows * F);
    }
    out_.forward(mid_.data(), rows, y);
  }

  nlohmann::json describe() const override {
    return {{"kind", gated_ ? "gated" : "dense"}, {"activation", act_name_}, {"ffn_dim", out_.in}};
  }

 private:
  bool gated_;
  cpu::Act act_;
  std::string act_name_;
  Linear in_, gate_, up_, out_;
  std::vector<float> mid_, lin_;  // grown once, reused every step
};

}  // namespace

std::unique_ptr<EncDecFeedForward> make_dense_ffn(const EncDecParams& p, const Weights& module, bool, int64_t,
                                                  int64_t ffn_dim) {
  return std::make_unique<DenseFFN>(p, module, ffn_dim);
}

}  // namespace ia
