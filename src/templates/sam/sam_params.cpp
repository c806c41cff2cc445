#include "templates/sam/sam_params.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ia {

int64_t SamVisionParams::window_of(int64_t layer) const {
  bool global = std::find(global_attn_indexes.begin(), global_attn_indexes.end(), layer) != global_attn_indexes.end();
  return global ? 0 : window_size;
}

SamParams SamParams::from_config(const HFConfig& cfg) {
  SamParams p;
  const HFConfig v = cfg.sub("vision_config");
  SamVisionParams& vp = p.vision;
  vp.hidden = v.get_int("hidden_size", 768);
  vp.output_channels = v.get_int("output_channels", 256);
  vp.layers = v.get_int("num_hidden_layers", 12);
  vp.heads = v.get_int("num_attention_heads", 12);
  vp.num_channels = v.get_int("num_channels", 3);
  vp.image_size = v.get_int("image_size", 1024);
  vp.patch_size = v.get_int("patch_size", 16);
  vp.act = v.get_string("hidden_act", "gelu");
  vp.eps = float(v.get_float("layer_norm_eps", 1e-6));
  vp.qkv_bias = v.get_bool("qkv_bias", true);
  vp.use_abs_pos = v.get_bool("use_abs_pos", true);
  vp.use_rel_pos = v.get_bool("use_rel_pos", true);
  vp.window_size = v.get_int("window_size", 14);
  if (v.has("global_attn_indexes")) vp.global_attn_indexes = v.get_int_list("global_attn_indexes");
  vp.num_pos_feats = v.get_int("num_pos_feats", 128);
  const double mlp_ratio = v.get_float("mlp_ratio", 4.0);
  vp.mlp_dim = v.has("mlp_dim") ? v.get_int("mlp_dim") : int64_t(double(vp.hidden) * mlp_ratio);
  IA_CHECK(vp.hidden > 0 && vp.heads > 0 && vp.hidden % vp.heads == 0, cfg.label(),
           ": vision_config.num_attention_heads must divide hidden_size (", vp.hidden, " / ", vp.heads, ")");
  IA_CHECK(vp.patch_size > 0 && vp.image_size >= vp.patch_size, cfg.label(),
           ": vision_config.image_size/patch_size invalid (", vp.image_size, "/", vp.patch_size, ")");
  IA_CHECK(vp.window_size >= 0, cfg.label(), ": vision_config.window_size must be >= 0");
  IA_CHECK(vp.mlp_dim > 0 && vp.layers >= 0 && vp.output_channels > 0 && vp.num_channels > 0, cfg.label(),
           ": vision_config sizes must be positive");

  const HFConfig pe = cfg.sub("prompt_encoder_config");
  SamPromptParams& pp = p.prompt;
  pp.hidden = pe.get_int("hidden_size", 256);
  pp.image_size = pe.get_int("image_size", 1024);
  pp.patch_size = pe.get_int("patch_size", 16);
  pp.mask_input_channels = pe.get_int("mask_input_channels", 16);
  pp.num_point_embeddings = pe.get_int("num_point_embeddings", 4);
  pp.act = pe.get_string("hidden_act", "gelu");
  pp.eps = float(pe.get_float("layer_norm_eps", 1e-6));
  IA_CHECK(pp.patch_size > 0 && pp.image_size >= pp.patch_size, cfg.label(),
           ": prompt_encoder_config.image_size/patch_size invalid");
  IA_CHECK(pp.num_point_embeddings >= 4, cfg.label(),
           ": prompt_encoder_config.num_point_embeddings must be >= 4 (points use 0/1, box corners 2/3)");
  IA_CHECK(pp.mask_input_channels >= 4, cfg.label(), ": prompt_encoder_config.mask_input_channels must be >= 4");
  IA_CHECK(2 * vp.num_pos_feats == pp.hidden, cfg.label(), ": 2 * vision_config.num_pos_feats (", vp.num_pos_feats,
           ") must equal prompt_encoder_config.hidden_size (", pp.hidden, ")");

  const HFConfig md = cfg.sub("mask_decoder_config");
  SamDecoderParams& dp = p.decoder;
  dp.hidden = md.get_int("hidden_size", 256);
  dp.mlp_dim = md.get_int("mlp_dim", 2048);
  dp.layers = md.get_int("num_hidden_layers", 2);
  dp.heads = md.get_int("num_attention_heads", 8);
  dp.attention_downsample_rate = md.get_int("attention_downsample_rate", 2);
  dp.num_multimask_outputs = md.get_int("num_multimask_outputs", 3);
  dp.iou_head_depth = md.get_int("iou_head_depth", 3);
  dp.iou_head_hidden_dim = md.get_int("iou_head_hidden_dim", 256);
  dp.act = md.get_string("hidden_act", "relu");
  dp.eps = float(md.get_float("layer_norm_eps", 1e-6));
  IA_CHECK(dp.hidden > 0 && dp.hidden % 8 == 0, cfg.label(),
           ": mask_decoder_config.hidden_size must be a positive multiple of 8 (upscaling to hidden/8 channels)");
  IA_CHECK(dp.attention_downsample_rate > 0 && dp.heads > 0, cfg.label(),
           ": mask_decoder_config.attention_downsample_rate/num_attention_heads must be positive");
  IA_CHECK((dp.hidden / 2) % dp.heads == 0 && (dp.hidden / dp.attention_downsample_rate) % dp.heads == 0 &&
               dp.hidden % dp.heads == 0,
           cfg.label(), ": mask_decoder_config.num_attention_heads must divide the attention widths");
  IA_CHECK(dp.iou_head_depth >= 2 && dp.num_multimask_outputs >= 1, cfg.label(),
           ": mask_decoder_config.iou_head_depth must be >= 2 and num_multimask_outputs >= 1");
  IA_CHECK(dp.hidden == pp.hidden && vp.output_channels == dp.hidden, cfg.label(),
           ": vision_config.output_channels, prompt_encoder_config.hidden_size and mask_decoder_config.hidden_size "
           "must agree (",
           vp.output_channels, ", ", pp.hidden, ", ", dp.hidden, ")");
  IA_CHECK(pp.embedding_size() == vp.grid(), cfg.label(), ": prompt_encoder_config image_size/patch_size give a ",
           pp.embedding_size(), "-wide embedding but the vision encoder produces ", vp.grid());
  return p;
}

}  // namespace ia
