// BlipTextModel (BERT-style post-norm layers; as a decoder: causal self-attention,
// cross-attention to image embeddings, a key/value cache) and the LM head of
// BlipTextLMHeadModel. Masks follow transformers' additive (1 - m) * -10000.
#pragma once
#include <cstdint>
#include <vector>

#include "backends/cpu/kernels.h"
#include "parts/nn.h"
#include "templates/blip/blip_params.h"

namespace ia {

class BlipTextModel {
 public:
  // w = "text_model" or "text_decoder.bert"; pooler: BlipTextModel(add_pooling_layer=True).
  BlipTextModel(const BlipTextParams& p, const Weights& w, bool pooler);

  // Decoder state: self-attention keys/values of every processed position and the
  // cross-attention keys/values of the image embeddings (computed once).
  struct Cache {
    std::vector<Tensor> k, v;    // per layer [B, cap, hidden]
    std::vector<Tensor> ck, cv;  // per layer [B, Ti, hidden]
    std::vector<int64_t> mask;   // [B, cap] attention mask of the cached positions
    int64_t B = 0, cap = 0, len = 0, Ti = 0;
  };
  void init_cache(Cache& c, int64_t B, int64_t capacity, const Tensor& encoder /*[B, Ti, enc]*/) const;

  // Runs T tokens per row. mask [B, T] (nullptr = ones) covers the new tokens; with a cache,
  // earlier positions keep their mask. causal: decoder (is_decoder=True) masking.
  // encoder: image embeddings for cross-attention (nullptr = none; with a cache, its own).
  // Returns hidden states [B, T, hidden].
  Tensor run(const int64_t* ids, int64_t B, int64_t T, const int64_t* mask, bool causal, const Tensor* encoder,
             Cache* cache) const;
  Tensor pool(const Tensor& hidden) const;  // tanh(dense(hidden[:, 0]))
  bool has_cross_attention() const { return has_cross_; }
  const Embedding& word_embeddings() const { return word_; }

 private:
  struct Layer {
    Linear q, k, v, o;
    LayerNorm ln_attn;
    Linear cq, ck, cv, co;  // crossattention (decoder configs)
    LayerNorm ln_cross;
    Linear inter, out;
    LayerNorm ln_out;
  };
  BlipTextParams p_;
  cpu::Act act_;
  Embedding word_, pos_;
  LayerNorm emb_ln_;
  std::vector<Layer> layers_;
  bool has_cross_ = false;
  Linear pooler_;
};

// BlipTextOnlyMLMHead: transform (dense, act, LayerNorm) then decoder + bias.
class BlipLMHead {
 public:
  BlipLMHead(const BlipTextParams& p, const Weights& w /* "text_decoder.cls.predictions" */, const Embedding& tied);
  void forward(const float* hidden, int64_t rows, float* logits) const;  // [rows, vocab]

 private:
  BlipTextParams p_;
  cpu::Act act_;
  Linear dense_, decoder_;
  LayerNorm ln_;
};

}  // namespace ia
