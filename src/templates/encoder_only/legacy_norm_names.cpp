#include "templates/encoder_only/legacy_norm_names.h"

namespace ia {

LayerNorm load_encoder_layer_norm(const Weights& w, int64_t n, float eps) {
  if (w.has("weight") || !w.has("gamma")) return LayerNorm::load(w, n, eps);
  LayerNorm l;
  l.n = n;
  l.eps = eps;
  l.weight = w.get("gamma", {n});
  l.bias = w.get("beta", {n});
  return l;
}

}  // namespace ia
