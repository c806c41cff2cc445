// Expert analytics of a mixture-of-experts model: which experts each token was
// routed to, filled by MoeFfn::forward during forward()/generate().
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace ia {

struct MoeLayerStats {
  int64_t layer = -1;                // model layer index
  int64_t tokens = 0;                // routed tokens (rows) seen
  std::vector<int64_t> counts;       // [n_experts] times each expert was selected
  // Sorted expert-id set of a token -> how many tokens chose exactly that set.
  std::map<std::vector<int32_t>, int64_t> combos;
  // Per token, in call order: experts (rank order, best first) and their routing weights.
  std::vector<int64_t> token_offsets = {0};  // token t occupies [offsets[t], offsets[t+1])
  std::vector<int32_t> token_experts;
  std::vector<float> token_weights;

  // The `n` most selected experts as (expert, count), most first; ties -> lower id.
  std::vector<std::pair<int32_t, int64_t>> top_experts(size_t n) const;
  // Combinations by frequency, most first (ties: lexicographic).
  std::vector<std::pair<std::vector<int32_t>, int64_t>> top_combos(size_t n) const;
};

class MoeRecorder {
 public:
  // Clears everything; `n_layers` model layers, `n_experts` experts per block.
  void reset(int64_t n_layers, int64_t n_experts);
  // One call's routing of layer `layer`: ids/weights [rows, k].
  void record(int64_t layer, const int32_t* ids, const float* weights, int64_t rows, int64_t k);
  bool enabled() const { return enabled_; }
  void set_enabled(bool on) { enabled_ = on; }

  // Stats of the MoE layers that recorded anything, in layer order.
  std::vector<const MoeLayerStats*> layers() const;
  // Stats of model layer `layer` (errors when that layer recorded nothing).
  const MoeLayerStats& layer(int64_t layer) const;

 private:
  bool enabled_ = true;
  int64_t n_experts_ = 0;
  std::vector<MoeLayerStats> stats_;  // indexed by model layer; layer == -1: nothing recorded
  std::vector<int32_t> key_;          // reusable combination key
};

}  // namespace ia
