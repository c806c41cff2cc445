// Basic layers shared by every architecture template: Linear, norms, embeddings.
// Activations are row-major F32 [rows, features].
#pragma once
#include <cstdint>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/tensor.h"
#include "parts/weights.h"

namespace ia {

struct Linear {
  Tensor weight;  // [out, in] (layout OutIn) or [in, out] (InOut); F32, F16 or BF16, kept as stored
  Tensor bias;    // [out] F32, or undefined
  int64_t in = 0, out = 0;
  cpu::WeightLayout layout = cpu::WeightLayout::OutIn;

  // `w` is the module (e.g. vb.pp("query")); reads "weight" and, if `bias`, "bias".
  static Linear load(const Weights& w, int64_t in, int64_t out, bool bias);
  // Bias optional: used when the checkpoint decides (some configs toggle biases).
  static Linear load_auto_bias(const Weights& w, int64_t in, int64_t out);
  // Conv1D (GPT-2) stores [in, out]; used in place (layout InOut), no transposed copy.
  static Linear load_conv1d(const Weights& w, int64_t in, int64_t out);
  static Linear from(Tensor weight, Tensor bias);
  bool defined() const { return weight.defined(); }
  // The same projection with an [out, in] weight (a transposed copy when stored InOut),
  // for callers that rearrange weight rows.
  Linear out_in() const;
  cpu::LinearPart part() const { return {&weight, bias.defined() ? bias.f32() : nullptr, layout}; }

  void forward(const float* x, int64_t rows, float* y) const {
    const cpu::LinearPart p = part();
    cpu::linear_parts(x, rows, in, &p, 1, y, out);
  }
  Tensor forward(const Tensor& x) const;  // [..., in] -> [..., out]
};

// Projections of one input whose outputs sit side by side ([q | k | v], [gate | up]),
// each kept as stored; forward() streams all of them in one pass (cpu::linear_parts).
struct LinearGroup {
  static constexpr int kMaxParts = 4;
  std::vector<Linear> parts;
  int64_t in = 0, out = 0;

  void add(Linear l);
  bool defined() const { return !parts.empty(); }
  void forward(const float* x, int64_t rows, float* y) const;
};

struct LayerNorm {
  Tensor weight, bias;  // bias may be undefined
  int64_t n = 0;
  float eps = 1e-5f;
  static LayerNorm load(const Weights& w, int64_t n, float eps, bool bias = true);
  void forward(const float* x, int64_t rows, float* y) const {
    cpu::layer_norm(x, rows, n, weight.defined() ? weight.f32() : nullptr, bias.defined() ? bias.f32() : nullptr, eps, y);
  }
  Tensor forward(const Tensor& x) const;
};

struct RMSNorm {
  Tensor weight;
  int64_t n = 0;
  float eps = 1e-6f;
  float w_offset = 0.f;  // 1 for Gemma ("x * (1 + w)")
  static RMSNorm load(const Weights& w, int64_t n, float eps, float w_offset = 0.f);
  void forward(const float* x, int64_t rows, float* y) const {
    cpu::rms_norm(x, rows, n, weight.f32(), eps, y, w_offset);
  }
  Tensor forward(const Tensor& x) const;
};

struct Embedding {
  Tensor table;  // [vocab, dim] F32
  int64_t vocab = 0, dim = 0;
  static Embedding load(const Weights& w, int64_t vocab, int64_t dim);
  // out[i, :] = table[ids[i], :]; ids are range-checked with a clear error.
  void lookup(const int64_t* ids, int64_t n, float* out, const char* what = "input id") const;
  void lookup_add(const int64_t* ids, int64_t n, float* out, const char* what = "position id") const;
};

}  // namespace ia
