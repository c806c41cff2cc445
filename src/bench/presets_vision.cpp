// ViTForImageClassification presets (google/vit-base-patch16-224 shapes) for
// `make-checkpoint`, named as save_pretrained writes them.
#include <string>

#include "bench/presets.h"

namespace ia::bench {

Preset vit_preset(const std::string& name, const std::string& desc, int64_t hidden, int64_t layers, int64_t heads,
                  int64_t intermediate, int64_t image, int64_t patch, int64_t labels) {
  Preset p;
  p.name = name;
  p.description = desc;
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (int64_t i = 0; i < labels; ++i) {
    id2label[std::to_string(i)] = "LABEL_" + std::to_string(i);
    label2id["LABEL_" + std::to_string(i)] = i;
  }
  p.config = {{"architectures", {"ViTForImageClassification"}},
              {"attention_probs_dropout_prob", 0.0},
              {"encoder_stride", patch},
              {"hidden_act", "gelu"},
              {"hidden_dropout_prob", 0.0},
              {"hidden_size", hidden},
              {"id2label", id2label},
              {"image_size", image},
              {"initializer_range", 0.02},
              {"intermediate_size", intermediate},
              {"label2id", label2id},
              {"layer_norm_eps", 1e-12},
              {"model_type", "vit"},
              {"num_attention_heads", heads},
              {"num_channels", 3},
              {"num_hidden_layers", layers},
              {"patch_size", patch},
              {"qkv_bias", true}};
  p.generation_config = nullptr;
  const int64_t positions = (image / patch) * (image / patch) + 1;
  auto& t = p.tensors;
  t.push_back({"vit.embeddings.cls_token", {1, 1, hidden}});
  t.push_back({"vit.embeddings.position_embeddings", {1, positions, hidden}});
  t.push_back({"vit.embeddings.patch_embeddings.projection.weight", {hidden, 3, patch, patch}});
  t.push_back({"vit.embeddings.patch_embeddings.projection.bias", {hidden}, Init::Zeros});
  auto dense = [&](const std::string& n, int64_t out, int64_t in) {
    t.push_back({n + ".weight", {out, in}});
    t.push_back({n + ".bias", {out}, Init::Zeros});
  };
  auto norm = [&](const std::string& n) {
    t.push_back({n + ".weight", {hidden}, Init::Ones});
    t.push_back({n + ".bias", {hidden}, Init::Zeros});
  };
  for (int64_t i = 0; i < layers; ++i) {
    const std::string l = "vit.encoder.layer." + std::to_string(i);
    for (const char* qkv : {"query", "key", "value"}) dense(l + ".attention.attention." + qkv, hidden, hidden);
    dense(l + ".attention.output.dense", hidden, hidden);
    dense(l + ".intermediate.dense", intermediate, hidden);
    dense(l + ".output.dense", hidden, intermediate);
    norm(l + ".layernorm_before");
    norm(l + ".layernorm_after");
  }
  norm("vit.layernorm");
  dense("classifier", labels, hidden);
  return p;
}

}  // namespace ia::bench
