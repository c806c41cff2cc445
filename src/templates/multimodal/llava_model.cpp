#include "templates/multimodal/llava_model.h"

#include <cstring>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/decoder_only/decoder_model.h"
#include "templates/greedy_decode.h"
#include "templates/multimodal/llava_merge.h"
#include "templates/vision_text/clip_towers.h"

namespace ia {

namespace {

// LlavaConfig(vision_config=None) builds this CLIP tower.
nlohmann::json default_llava_vision_config() {
  return {{"model_type", "clip_vision_model"}, {"intermediate_size", 4096}, {"hidden_size", 1024},
          {"patch_size", 14},                  {"image_size", 336},         {"num_hidden_layers", 24},
          {"num_attention_heads", 16},         {"vocab_size", 32000},       {"projection_dim", 768}};
}

// save_pretrained drops text_config keys equal to the class defaults; vocab_size is the
// one the decoder rows cannot default themselves.
int64_t default_vocab(const std::string& model_type) {
  static const std::map<std::string, int64_t> v = {{"llama", 32000},  {"mistral", 32000}, {"mixtral", 32000},
                                                   {"gemma", 256000}, {"gemma2", 256000}, {"qwen2", 151936},
                                                   {"phi3", 32064},   {"gpt2", 50257},    {"opt", 50272}};
  auto it = v.find(model_type);
  return it == v.end() ? -1 : it->second;
}

class LlavaModel : public Model, public StepDecoder, public ImagePromptDecoder {
 public:
  explicit LlavaModel(const ModelContext& ctx);
  const std::string& model_type() const override { return model_type_; }
  Family family() const override { return Family::Multimodal; }
  TensorMap forward(const TensorMap& inputs) override;
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override { return {"image-text-to-text", "text-generation"}; }

  // StepDecoder: text-only prefill delegates to the language model; decode steps follow
  // 4.44's image rule while an image prompt is active.
  int64_t vocab() const override { return lm_->vocab(); }
  const float* prefill(const int64_t* ids, const int64_t* mask, int64_t batch, int64_t prompt_len,
                       int64_t capacity) override;
  const float* decode_step(const int64_t* tokens) override;

  void set_prompt_image(const Tensor& pixel_values) override { pending_image_ = pixel_values; }
  std::vector<int64_t> generation_eos_ids() const override { return eos_; }

 private:
  struct Batch {
    int64_t B = 0, S = 0;
    std::vector<int64_t> ids, mask;
  };
  Batch read_batch(const TensorMap& in) const;
  // Projected image features [num_images, patches, text_hidden].
  Tensor image_features(const Tensor& pixel_values) const;
  LlavaMerged merge(const Batch& b, const Tensor& features) const;
  // The image-prompt prefill: merged embeddings through the language model, caches sized
  // for max_new more tokens; returns the last position's logits [B, vocab].
  const float* prefill_with_image(const Batch& b, const Tensor& pixel_values, int64_t max_new);

  std::string model_type_ = "llava";
  int64_t image_token_ = 32000, pad_token_ = -1, feature_layer_ = -2;
  bool full_features_ = false;
  std::string projector_act_name_;
  cpu::Act projector_act_ = cpu::Act::GeluExact;
  ClipVisionTower vision_;
  Linear proj1_, proj2_;
  std::unique_ptr<DecoderModel> lm_;
  std::string text_model_type_;
  std::vector<int64_t> eos_;
  int64_t gen_pad_ = -1;
  // Decode-state of an image prompt.
  bool image_decode_ = false;
  std::vector<int64_t> step_pos_, step_mask_;
  std::vector<float> logits_buf_;
  std::optional<Tensor> pending_image_;
};

LlavaModel::LlavaModel(const ModelContext& ctx) {
  const HFConfig& c = ctx.config;
  IA_CHECK(ctx.checkpoint, c.label(), ": no checkpoint opened");
  IA_CHECK(ctx.architecture.empty() || ctx.architecture == "LlavaForConditionalGeneration", c.label(),
           ": architecture '", ctx.architecture, "' is not implemented for llava (supported: LlavaForConditionalGeneration)");
  image_token_ = c.get_int("image_token_index", 32000);
  pad_token_ = c.get_int("pad_token_id", -1);
  feature_layer_ = c.get_int("vision_feature_layer", -2);
  const std::string strategy = c.get_string("vision_feature_select_strategy", "default");
  IA_CHECK(strategy == "default" || strategy == "full", c.label(),
           ": vision_feature_select_strategy should be one of 'default', 'full', got '", strategy, "'");
  full_features_ = strategy == "full";
  projector_act_name_ = c.get_string("projector_hidden_act", "gelu");
  projector_act_ = cpu::act_from_name(projector_act_name_, c.label() + ":projector_hidden_act");

  HFConfig vc = c.has("vision_config") ? c.sub("vision_config")
                                       : HFConfig::from_json(default_llava_vision_config(), c.label() + ":vision_config");
  const std::string vtype = vc.get_string("model_type", "clip_vision_model");
  if (vtype != "clip_vision_model")
    throw Unsupported(cat(vc.label(), ": llava vision tower '", vtype, "' is not supported (supported: clip_vision_model)"));
  const Weights root(ctx.checkpoint);
  vision_ = ClipVisionTower::load(vc, root.pp("vision_tower").pp("vision_model"));

  // The language model: a decoder-only template model over "language_model.*".
  nlohmann::json tj = c.has("text_config") ? c.raw()["text_config"] : nlohmann::json::object();
  IA_CHECK(tj.is_object(), c.label(), ": field 'text_config' must be an object");
  if (!tj.contains("model_type")) tj["model_type"] = "llama";
  IA_CHECK(tj["model_type"].is_string(), c.label(), ":text_config: field 'model_type' must be a string");
  text_model_type_ = tj["model_type"].get<std::string>();
  if (!tj.contains("vocab_size") && default_vocab(text_model_type_) > 0) tj["vocab_size"] = default_vocab(text_model_type_);
  ModelContext tctx;
  tctx.dir = ctx.dir;
  tctx.config = HFConfig::from_json(tj, c.label() + ":text_config");
  tctx.checkpoint = ctx.checkpoint;
  tctx.model_type = text_model_type_;
  tctx.generation_config = ctx.generation_config;
  lm_ = std::make_unique<DecoderModel>(tctx, "language_model");
  lm_->set_masked_rows_uniform(true);
  const int64_t text_hidden = lm_->params().hidden;
  IA_CHECK(lm_->params().embed_dim == text_hidden, c.label(), ": llava needs a language model whose token embeddings are ",
           "hidden_size wide (", text_model_type_, " embeds ", lm_->params().embed_dim, ")");
  proj1_ = Linear::load(root.pp("multi_modal_projector").pp("linear_1"), vision_.hidden(), text_hidden, true);
  proj2_ = Linear::load(root.pp("multi_modal_projector").pp("linear_2"), text_hidden, text_hidden, true);

  // generate(): generation_config.json, else config.json, else the text config (from_model_config).
  const HFConfig tc = tctx.config;
  const HFConfig* sources[3] = {ctx.generation_config ? &*ctx.generation_config : nullptr, &c, &tc};
  for (const HFConfig* s : sources)
    if (s && eos_.empty()) eos_ = s->get_int_list("eos_token_id");
  for (const HFConfig* s : sources)
    if (s && gen_pad_ < 0 && s->has("pad_token_id")) gen_pad_ = s->get_int("pad_token_id");
}

LlavaModel::Batch LlavaModel::read_batch(const TensorMap& in) const {
  const Tensor& ids_t = require_input(in, "input_ids", model_type_);
  IA_CHECK(ids_t.rank() == 2 && ids_t.dim(0) > 0 && ids_t.dim(1) > 0, model_type_,
           ": input_ids must be [batch, seq] with a token, got ", shape_str(ids_t.shape()));
  Batch b;
  b.B = ids_t.dim(0);
  b.S = ids_t.dim(1);
  Tensor ids = ids_t.to_i64();
  b.ids.assign(ids.i64(), ids.i64() + ids.numel());
  if (const Tensor* m = optional_input(in, "attention_mask")) {
    IA_CHECK(m->shape() == ids_t.shape(), model_type_, ": attention_mask shape ", shape_str(m->shape()),
             " does not match input_ids ", shape_str(ids_t.shape()));
    Tensor mi = m->to_i64();
    b.mask.assign(mi.i64(), mi.i64() + mi.numel());
  } else {
    b.mask.assign(size_t(b.B * b.S), 1);
  }
  return b;
}

Tensor LlavaModel::image_features(const Tensor& pixel_values) const {
  Tensor h = vision_.hidden_state(pixel_values, feature_layer_);
  const int64_t N = h.dim(0), T = h.dim(1), Hv = h.dim(2), skip = full_features_ ? 0 : 1, P = T - skip;
  std::vector<float> sel(size_t(N * P * Hv));
  for (int64_t n = 0; n < N; ++n)
    std::memcpy(sel.data() + n * P * Hv, h.f32() + (n * T + skip) * Hv, size_t(P * Hv) * 4);
  const int64_t Ht = proj1_.out;
  std::vector<float> mid(size_t(N * P * Ht));
  proj1_.forward(sel.data(), N * P, mid.data());
  cpu::apply_act(projector_act_, mid.data(), N * P * Ht);
  Tensor out = Tensor::f32({N, P, Ht});
  proj2_.forward(mid.data(), N * P, out.f32());
  return out;
}

LlavaMerged LlavaModel::merge(const Batch& b, const Tensor& features) const {
  const int64_t E = lm_->params().embed_dim;
  std::vector<float> text(size_t(b.B * b.S * E));
  lm_->embed_tokens(b.ids.data(), b.B * b.S, text.data());
  LlavaMergeInput mi;
  mi.batch = b.B;
  mi.seq = b.S;
  mi.embed_dim = E;
  mi.input_ids = b.ids.data();
  mi.attention_mask = b.mask.data();
  mi.text_embeds = text.data();
  mi.num_images = features.dim(0);
  mi.num_patches = features.dim(1);
  mi.image_features = features.f32();
  mi.image_token_index = image_token_;
  mi.pad_token_id = pad_token_;
  return llava_merge_image_features(mi);
}

TensorMap LlavaModel::forward(const TensorMap& in) {
  Batch b = read_batch(in);
  const Tensor* px = optional_input(in, "pixel_values");
  const int64_t V = lm_->vocab();
  image_decode_ = false;
  if (!px || b.S == 1) {
    // No image: the language model on the token embeddings, positions arange (no position_ids given).
    std::vector<int64_t> pos(size_t(b.B * b.S));
    for (int64_t r = 0; r < b.B; ++r)
      for (int64_t t = 0; t < b.S; ++t) pos[size_t(r * b.S + t)] = t;
    lm_->reset_cache(b.B, b.S);
    const float* h = lm_->run_inputs(nullptr, b.ids.data(), pos.data(), b.mask.data(), b.S);
    Tensor logits = Tensor::f32({b.B, b.S, V});
    lm_->logits(h, b.B * b.S, logits.f32());
    return {{"logits", logits}};
  }
  Tensor feats = image_features(*px);
  LlavaMerged m = merge(b, feats);
  lm_->reset_cache(b.B, m.length);
  const float* h = lm_->run_inputs(m.embeds.data(), nullptr, m.position_ids.data(), m.attention_mask.data(), m.length);
  Tensor logits = Tensor::f32({b.B, m.length, V});
  lm_->logits(h, b.B * m.length, logits.f32());
  Tensor mask = Tensor::empty(DType::I64, {b.B, m.length});
  std::memcpy(mask.i64(), m.attention_mask.data(), m.attention_mask.size() * 8);
  return {{"logits", logits}, {"image_features", feats}, {"attention_mask", mask}};
}

const float* LlavaModel::prefill(const int64_t* ids, const int64_t* mask, int64_t batch, int64_t prompt_len,
                                 int64_t capacity) {
  image_decode_ = false;
  if (pending_image_ && prompt_len > 1) {
    Tensor px = *pending_image_;
    pending_image_.reset();
    Batch b;
    b.B = batch;
    b.S = prompt_len;
    b.ids.assign(ids, ids + batch * prompt_len);
    if (mask) b.mask.assign(mask, mask + batch * prompt_len);
    else b.mask.assign(size_t(batch * prompt_len), 1);
    return prefill_with_image(b, px, capacity - prompt_len);
  }
  pending_image_.reset();
  return lm_->prefill(ids, mask, batch, prompt_len, capacity);
}

const float* LlavaModel::prefill_with_image(const Batch& b, const Tensor& pixel_values, int64_t max_new) {
  Tensor feats = image_features(pixel_values);
  LlavaMerged m = merge(b, feats);
  lm_->reset_cache(b.B, m.length + std::max<int64_t>(max_new, 0));
  const float* h = lm_->run_inputs(m.embeds.data(), nullptr, m.position_ids.data(), m.attention_mask.data(), m.length);
  const int64_t E = lm_->params().embed_dim, V = lm_->vocab();
  std::vector<float> last(size_t(b.B * E));
  for (int64_t r = 0; r < b.B; ++r)
    std::memcpy(last.data() + r * E, h + (r * m.length + m.length - 1) * E, size_t(E) * 4);
  logits_buf_.resize(size_t(b.B * V));
  lm_->logits(last.data(), b.B, logits_buf_.data());
  image_decode_ = true;
  return logits_buf_.data();
}

const float* LlavaModel::decode_step(const int64_t* tokens) {
  if (!image_decode_) return lm_->decode_step(tokens);
  KVCache& cache = lm_->kv_cache();
  const int64_t B = cache.batch(), past = cache.length(), cap = cache.capacity();
  const int64_t kv_heads = lm_->params().n_kv_heads, D = lm_->params().head_dim, kv_dim = kv_heads * D;
  // Keys of layer 0: an entry whose first element sums to exactly 0 over the kv heads is
  // "non-attended" (4.44's test for the zero embeddings of padding).
  const float* k0 = cache.keys(0);
  int64_t* cmask = cache.mask();
  step_pos_.resize(size_t(B));
  step_mask_.assign(size_t(B), 1);
  for (int64_t b = 0; b < B; ++b) {
    int64_t attended = 0;
    for (int64_t s = 0; s < past; ++s) {
      const float* key = k0 + (b * cap + s) * kv_dim;
      float sum = 0.f;
      for (int64_t h = 0; h < kv_heads; ++h) sum += key[h * D];
      const int64_t m = sum == 0.f ? 0 : 1;
      cmask[b * cap + s] = m;
      attended += m;
    }
    step_pos_[size_t(b)] = attended;  // sum(extended mask + the new 1) - 1
  }
  const float* h = lm_->run_inputs(nullptr, tokens, step_pos_.data(), step_mask_.data(), 1);
  logits_buf_.resize(size_t(B * lm_->vocab()));
  lm_->logits(h, B, logits_buf_.data());
  return logits_buf_.data();
}

TensorMap LlavaModel::generate(const TensorMap& in, const GenerateOptions& opts) {
  Batch b = read_batch(in);
  IA_CHECK(opts.max_new_tokens >= 0, model_type_, ": max_new_tokens must not be negative");
  std::vector<int64_t> eos = opts.eos_token_ids.empty() ? eos_ : opts.eos_token_ids;
  const int64_t pad = opts.pad_token_id ? *opts.pad_token_id : gen_pad_ >= 0 ? gen_pad_ : (eos.empty() ? 0 : eos[0]);
  const int64_t max_new = opts.max_new_tokens;
  const Tensor* px = optional_input(in, "pixel_values");
  const float* logits = nullptr;
  std::vector<float> first;
  if (max_new > 0) {
    if (!px || b.S == 1) {
      logits = prefill(b.ids.data(), b.mask.data(), b.B, b.S, b.S + max_new);
    } else {
      // Copied: decode steps reuse logits_buf_ before greedy_decode reads the first row.
      const float* l = prefill_with_image(b, *px, max_new);
      first.assign(l, l + b.B * lm_->vocab());
      logits = first.data();
    }
  }
  TensorMap out = greedy_decode(*this, logits, b.ids.data(), b.B, b.S, pad, eos, opts);
  image_decode_ = false;
  return out;
}

nlohmann::json LlavaModel::describe() const {
  nlohmann::json j;
  j["template"] = "multimodal";
  j["model_type"] = model_type_;
  j["architecture"] = "LlavaForConditionalGeneration";
  const VisionEncoderSpec& vs = vision_.encoder_spec();
  j["vision_tower"] = {{"model_type", "clip_vision_model"}, {"hidden_size", vs.hidden},
                       {"num_layers", vs.layers},           {"num_heads", vs.heads},
                       {"image_size", vision_.embeddings().spec().image_h},
                       {"patch_size", vision_.embeddings().spec().patch_h},
                       {"activation", vision_.act_name()}};
  j["vision_feature_layer"] = feature_layer_;
  j["vision_feature_select_strategy"] = full_features_ ? "full" : "default";
  j["image_tokens_per_image"] = vision_.seq_len() - (full_features_ ? 0 : 1);
  j["projector"] = {{"layers", "linear_1 -> act -> linear_2"}, {"activation", projector_act_name_}};
  j["image_token_index"] = image_token_;
  j["language_model"] = lm_->describe();
  return j;
}

}  // namespace

std::unique_ptr<Model> make_llava_model(const ModelContext& ctx) { return std::make_unique<LlavaModel>(ctx); }

}  // namespace ia
