#include "templates/blip/blip_params.h"

#include "core/error.h"

namespace ia {

BlipParams BlipParams::from_config(const HFConfig& cfg) {
  BlipParams p;
  p.projection_dim = cfg.get_int("projection_dim", 512);
  const HFConfig v = cfg.sub("vision_config");
  BlipVisionParams& vp = p.vision;
  vp.hidden = v.get_int("hidden_size", 768);
  vp.intermediate = v.get_int("intermediate_size", 3072);
  vp.layers = v.get_int("num_hidden_layers", 12);
  vp.heads = v.get_int("num_attention_heads", 12);
  vp.image_size = v.get_int("image_size", 384);
  vp.patch_size = v.get_int("patch_size", 16);
  vp.act = v.get_string("hidden_act", "gelu");
  vp.eps = float(v.get_float("layer_norm_eps", 1e-5));
  IA_CHECK(vp.hidden > 0 && vp.heads > 0 && vp.hidden % vp.heads == 0, cfg.label(),
           ": vision_config.num_attention_heads (", vp.heads, ") must divide hidden_size (", vp.hidden, ")");
  IA_CHECK(vp.patch_size > 0 && vp.image_size >= vp.patch_size, cfg.label(),
           ": vision_config.image_size/patch_size invalid (", vp.image_size, "/", vp.patch_size, ")");

  const HFConfig t = cfg.sub("text_config");
  BlipTextParams& tp = p.text;
  tp.vocab = t.get_int("vocab_size", 30524);
  tp.hidden = t.get_int("hidden_size", 768);
  // BlipConfig overwrites text_config.encoder_hidden_size with the vision width.
  tp.encoder_hidden = vp.hidden;
  tp.intermediate = t.get_int("intermediate_size", 3072);
  tp.layers = t.get_int("num_hidden_layers", 12);
  tp.heads = t.get_int("num_attention_heads", 8);
  tp.max_positions = t.get_int("max_position_embeddings", 512);
  tp.act = t.get_string("hidden_act", "gelu");
  tp.eps = float(t.get_float("layer_norm_eps", 1e-12));
  tp.bos_token_id = t.get_int("bos_token_id", 30522);
  tp.eos_token_id = t.get_int("eos_token_id", 2);
  tp.has_pad = !(t.raw().contains("pad_token_id") && t.raw()["pad_token_id"].is_null());  // null = no pad token
  tp.pad_token_id = t.get_int("pad_token_id", 0);
  tp.sep_token_id = t.get_int("sep_token_id", 102);
  const std::string pos = t.get_string("position_embedding_type", "absolute");
  if (pos != "absolute")
    throw Unsupported(cat(cfg.label(), ": text_config.position_embedding_type '", pos,
                          "' is not supported for blip (only 'absolute')"));
  IA_CHECK(tp.hidden > 0 && tp.heads > 0 && tp.hidden % tp.heads == 0, cfg.label(),
           ": text_config.num_attention_heads (", tp.heads, ") must divide hidden_size (", tp.hidden, ")");
  IA_CHECK(tp.vocab > 0 && tp.max_positions > 0 && tp.layers >= 0, cfg.label(), ": text_config sizes must be positive");
  return p;
}

}  // namespace ia
