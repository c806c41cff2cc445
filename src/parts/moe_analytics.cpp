#include "parts/moe_analytics.h"

#include <algorithm>

#include "core/error.h"

namespace ia {

std::vector<std::pair<int32_t, int64_t>> MoeLayerStats::top_experts(size_t n) const {
  std::vector<std::pair<int32_t, int64_t>> r;
  for (size_t e = 0; e < counts.size(); ++e) r.push_back({int32_t(e), counts[e]});
  std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (r.size() > n) r.resize(n);
  return r;
}

std::vector<std::pair<std::vector<int32_t>, int64_t>> MoeLayerStats::top_combos(size_t n) const {
  std::vector<std::pair<std::vector<int32_t>, int64_t>> r(combos.begin(), combos.end());
  std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (r.size() > n) r.resize(n);
  return r;
}

void MoeRecorder::reset(int64_t n_layers, int64_t n_experts) {
  n_experts_ = n_experts;
  stats_.assign(size_t(std::max<int64_t>(n_layers, 0)), MoeLayerStats{});
}

void MoeRecorder::record(int64_t layer, const int32_t* ids, const float* weights, int64_t rows, int64_t k) {
  if (!enabled_) return;
  IA_CHECK(layer >= 0 && layer < int64_t(stats_.size()), "MoeRecorder: layer ", layer, " out of range (",
           stats_.size(), " layers); call reset() first");
  MoeLayerStats& s = stats_[size_t(layer)];
  if (s.layer < 0) {
    s.layer = layer;
    s.counts.assign(size_t(n_experts_), 0);
  }
  s.tokens += rows;
  for (int64_t r = 0; r < rows; ++r) {
    key_.assign(ids + r * k, ids + (r + 1) * k);
    for (int64_t j = 0; j < k; ++j) {
      IA_CHECK(key_[size_t(j)] >= 0 && key_[size_t(j)] < n_experts_, "MoeRecorder: expert id ", key_[size_t(j)],
               " out of range");
      s.counts[size_t(key_[size_t(j)])]++;
    }
    s.token_experts.insert(s.token_experts.end(), key_.begin(), key_.end());
    s.token_weights.insert(s.token_weights.end(), weights + r * k, weights + (r + 1) * k);
    s.token_offsets.push_back(int64_t(s.token_experts.size()));
    std::sort(key_.begin(), key_.end());
    auto it = s.combos.find(key_);
    if (it != s.combos.end()) it->second++;
    else s.combos.emplace(key_, 1);
  }
}

std::vector<const MoeLayerStats*> MoeRecorder::layers() const {
  std::vector<const MoeLayerStats*> r;
  for (const auto& s : stats_)
    if (s.layer >= 0) r.push_back(&s);
  return r;
}

const MoeLayerStats& MoeRecorder::layer(int64_t layer) const {
  IA_CHECK(layer >= 0 && layer < int64_t(stats_.size()) && stats_[size_t(layer)].layer >= 0,
           "MoE analytics: layer ", layer, " has no recorded routing (not a MoE layer, or nothing ran yet)");
  return stats_[size_t(layer)];
}

}  // namespace ia
