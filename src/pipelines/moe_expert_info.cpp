#include "pipelines/moe_expert_info.h"

#include "core/error.h"

namespace ia {

using json = nlohmann::json;

namespace {

std::string token_text(const Tokenizer& tok, int64_t id) {
  if (id < 0) return "";
  return tok.decode({uint32_t(id)}, false);
}

}  // namespace

json expert_info_json(const MoeRecorder& rec, const std::vector<MoeLayerRef>& layers,
                      const std::vector<RoutedSequence>& seqs, const Tokenizer& tok, const ExpertInfoSettings& s) {
  json j;
  j["num_experts"] = s.num_experts;
  j["experts_per_token"] = s.experts_per_token;
  j["experts_per_token_config"] = s.experts_per_token_config;
  j["experts_per_token_overridden"] = s.experts_per_token != s.experts_per_token_config;
  json jl = json::array();
  for (const MoeLayerRef& L : layers) {
    const MoeLayerStats& st = rec.layer(L.recorder_layer);
    const double tokens = double(std::max<int64_t>(st.tokens, 1));
    json usage = json::array();
    for (int64_t c : st.counts) usage.push_back(double(c) / tokens);
    json top = json::array();
    for (const auto& [e, c] : st.top_experts(s.top_n))
      top.push_back({{"expert", e}, {"count", c}, {"fraction", double(c) / tokens}});
    json combos = json::array();
    for (const auto& [set, c] : st.top_combos(s.top_combinations))
      combos.push_back({{"experts", set}, {"count", c}, {"fraction", double(c) / tokens}});
    json e = {{"layer", L.name},       {"stack", seqs.at(L.sequence).stack}, {"tokens", st.tokens},
              {"expert_counts", st.counts}, {"usage_fraction", usage},           {"top_experts", top},
              {"combinations", combos}, {"distinct_combinations", st.combos.size()}};
    if (L.dropped >= 0) e["dropped_tokens"] = L.dropped;
    jl.push_back(e);
  }
  j["layers"] = jl;

  // Per-token attribution, one list per routed sequence.
  json attribution = json::array();
  for (size_t si = 0; si < seqs.size(); ++si) {
    const RoutedSequence& seq = seqs[si];
    std::vector<const MoeLayerRef*> mine;
    for (const MoeLayerRef& L : layers)
      if (L.sequence == si) mine.push_back(&L);
    if (mine.empty()) continue;
    const int64_t rows = rec.layer(mine[0]->recorder_layer).tokens;
    IA_CHECK(rows == int64_t(seq.input_ids.size()), "expert_info: ", seq.stack, " routed ", rows,
             " positions but the request has ", seq.input_ids.size(), " tokens there");
    const int64_t shown = std::min<int64_t>(rows, int64_t(s.max_attributed_tokens));
    json toks = json::array();
    for (int64_t p = 0; p < shown; ++p) {
      json t = {{"position", p}, {"token_id", seq.input_ids[size_t(p)]},
                {"token", token_text(tok, seq.input_ids[size_t(p)])}};
      if (!seq.prompt_len.empty()) t["phase"] = p < seq.prompt_len[0] ? "prompt" : "generated";
      if (p < int64_t(seq.next_ids.size()) && seq.next_ids[size_t(p)] >= 0) {
        t["produced_token_id"] = seq.next_ids[size_t(p)];
        t["produced_token"] = token_text(tok, seq.next_ids[size_t(p)]);
      }
      json routing = json::array();
      for (const MoeLayerRef* L : mine) {
        const MoeLayerStats& st = rec.layer(L->recorder_layer);
        const int64_t a = st.token_offsets[size_t(p)], b = st.token_offsets[size_t(p + 1)];
        routing.push_back({{"layer", L->name},
                           {"experts", std::vector<int32_t>(st.token_experts.begin() + a, st.token_experts.begin() + b)},
                           {"weights", std::vector<float>(st.token_weights.begin() + a, st.token_weights.begin() + b)}});
      }
      t["routing"] = routing;
      toks.push_back(t);
    }
    attribution.push_back({{"stack", seq.stack}, {"positions", rows}, {"truncated", shown < rows}, {"tokens", toks}});
  }
  j["per_token"] = attribution;
  return j;
}

}  // namespace ia
