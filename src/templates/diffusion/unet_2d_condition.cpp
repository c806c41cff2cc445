#include "templates/diffusion/unet_2d_condition.h"

#include "core/error.h"
#include "parts/conv.h"
#include "parts/group_norm.h"
#include "parts/timestep_embedding.h"
#include "templates/diffusion/diffusers_component.h"
#include "templates/diffusion/unet_blocks.h"

namespace ia::diffusion {

namespace {

const char* kClass = "UNet2DConditionModel";

// Strips diffusers' legacy "UNetRes" prefix of block type names.
std::string block_type(const std::string& t) { return t.rfind("UNetRes", 0) == 0 ? t.substr(7) : t; }

// Options that change the computation in ways this template does not implement.
void reject_unsupported(const HFConfig& cfg) {
  auto must_be_null = [&](const char* key) {
    if (cfg.has(key))
      throw Unsupported(cat(cfg.label(), ": field ", key, " = ", cfg.raw()[key].dump(),
                            " is not supported (UNet2DConditionModel implements the Stable Diffusion layout)"));
  };
  for (const char* key : {"class_embed_type", "num_class_embeds", "addition_embed_type", "encoder_hid_dim",
                          "encoder_hid_dim_type", "reverse_transformer_layers_per_block"})
    must_be_null(key);
  if (cfg.has("num_attention_heads"))
    fail(cfg.label(), ": field num_attention_heads must be null (diffusers 0.30 rejects it; heads come from "
                      "attention_head_dim)");
  if (cfg.get_bool("dual_cross_attention", false))
    throw Unsupported(cat(cfg.label(), ": dual_cross_attention = true is not supported"));
  if (cfg.get_string("attention_type", "default") != "default")
    throw Unsupported(cat(cfg.label(), ": attention_type '", cfg.get_string("attention_type"), "' is not supported"));
  const std::string tet = cfg.get_string("time_embedding_type", "positional");
  if (tet != "positional" && tet != "fourier")
    fail(cfg.label(), ": field time_embedding_type '", tet, "' must be positional or fourier");
  if (cfg.has("class_embeddings_concat") && cfg.get_bool("class_embeddings_concat"))
    throw Unsupported(cat(cfg.label(), ": class_embeddings_concat = true is not supported"));
}

}  // namespace

UNet2DConditionConfig UNet2DConditionConfig::from(const HFConfig& cfg) {
  reject_unsupported(cfg);
  UNet2DConditionConfig c;
  c.in_channels = cfg.get_int("in_channels", 4);
  c.out_channels = cfg.get_int("out_channels", 4);
  c.sample_size = cfg.raw().contains("sample_size") && cfg.raw()["sample_size"].is_number_integer()
                      ? cfg.get_int("sample_size")
                      : 0;
  c.center_input_sample = cfg.get_bool("center_input_sample", false);
  c.flip_sin_to_cos = cfg.get_bool("flip_sin_to_cos", true);
  c.freq_shift = cfg.get_float("freq_shift", 0.0);
  c.down_block_types = cfg.has("down_block_types")
                           ? string_list(cfg, "down_block_types")
                           : std::vector<std::string>{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                                      "CrossAttnDownBlock2D", "DownBlock2D"};
  c.up_block_types = cfg.has("up_block_types")
                         ? string_list(cfg, "up_block_types")
                         : std::vector<std::string>{"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                                    "CrossAttnUpBlock2D"};
  c.block_out_channels = cfg.has("block_out_channels") ? int_list(cfg, "block_out_channels")
                                                       : std::vector<int64_t>{320, 640, 1280, 1280};
  const size_t n = c.down_block_types.size();
  IA_CHECK(c.up_block_types.size() == n, cfg.label(), ": fields down_block_types (", n, ") and up_block_types (",
           c.up_block_types.size(), ") must have the same length");
  IA_CHECK(c.block_out_channels.size() == n, cfg.label(), ": field block_out_channels has ",
           c.block_out_channels.size(), " entries, expected one per down block (", n, ")");
  for (auto& t : c.down_block_types) {
    t = block_type(t);
    if (t != "CrossAttnDownBlock2D" && t != "DownBlock2D")
      throw Unsupported(cat(cfg.label(), ": down block type '", t, "' is not supported"));
  }
  for (auto& t : c.up_block_types) {
    t = block_type(t);
    if (t != "CrossAttnUpBlock2D" && t != "UpBlock2D")
      throw Unsupported(cat(cfg.label(), ": up block type '", t, "' is not supported"));
  }
  c.mid_block_type = cfg.has("mid_block_type") ? cfg.get_string("mid_block_type") : std::string();
  if (!cfg.raw().contains("mid_block_type")) c.mid_block_type = "UNetMidBlock2DCrossAttn";
  if (!c.mid_block_type.empty() && c.mid_block_type != "UNetMidBlock2DCrossAttn" && c.mid_block_type != "UNetMidBlock2D")
    throw Unsupported(cat(cfg.label(), ": mid_block_type '", c.mid_block_type, "' is not supported"));
  c.layers_per_block = int_per_block(cfg, "layers_per_block", n, 2);
  c.transformer_layers_per_block = int_per_block(cfg, "transformer_layers_per_block", n, 1);
  // diffusers' legacy naming: attention_head_dim is the number of heads.
  c.num_attention_heads = int_per_block(cfg, "attention_head_dim", n, 8);
  c.cross_attention_dim = int_per_block(cfg, "cross_attention_dim", n, 1280);
  c.only_cross_attention = bool_per_block(cfg, "only_cross_attention", n, false);
  c.downsample_padding = cfg.get_int("downsample_padding", 1);
  c.mid_block_scale_factor = cfg.get_float("mid_block_scale_factor", 1.0);
  c.act_fn = cfg.get_string("act_fn", "silu");
  if (cfg.raw().contains("norm_num_groups") && cfg.raw()["norm_num_groups"].is_null())
    throw Unsupported(cat(cfg.label(), ": norm_num_groups = null is not supported"));
  c.norm_num_groups = cfg.get_int("norm_num_groups", 32);
  c.norm_eps = cfg.get_float("norm_eps", 1e-5);
  c.use_linear_projection = cfg.get_bool("use_linear_projection", false);
  c.upcast_attention = cfg.get_bool("upcast_attention", false);
  c.resnet_time_scale_shift = cfg.get_string("resnet_time_scale_shift", "default");
  if (c.resnet_time_scale_shift != "default" && c.resnet_time_scale_shift != "scale_shift")
    throw Unsupported(cat(cfg.label(), ": resnet_time_scale_shift '", c.resnet_time_scale_shift, "' is not supported"));
  c.time_embedding_type = cfg.get_string("time_embedding_type", "positional");
  c.time_embed_dim = cfg.get_int("time_embedding_dim", (c.time_embedding_type == "fourier" ? 2 : 4) * c.block_out_channels[0]);
  IA_CHECK(c.time_embed_dim > 0 && (c.time_embedding_type != "fourier" || c.time_embed_dim % 2 == 0), cfg.label(),
           ": field time_embedding_dim must be positive (and even for fourier time embeddings)");
  c.time_embedding_act_fn = cfg.get_string("time_embedding_act_fn", "");
  c.timestep_post_act = cfg.get_string("timestep_post_act", "");
  c.time_cond_proj_dim = cfg.get_int("time_cond_proj_dim", 0);
  c.conv_in_kernel = cfg.get_int("conv_in_kernel", 3);
  c.conv_out_kernel = cfg.get_int("conv_out_kernel", 3);
  IA_CHECK(c.conv_in_kernel > 0 && c.conv_in_kernel % 2 == 1, cfg.label(), ": field conv_in_kernel must be odd");
  IA_CHECK(c.conv_out_kernel > 0 && c.conv_out_kernel % 2 == 1, cfg.label(), ": field conv_out_kernel must be odd");
  IA_CHECK(c.in_channels > 0 && c.out_channels > 0, cfg.label(), ": fields in_channels/out_channels must be positive");
  return c;
}

struct DiffusionUNet::Impl {
  UNet2DConditionConfig cfg;
  Conv2d conv_in, conv_out;
  Tensor fourier_weight;  // time_proj.weight [time_embed_dim / 2] (fourier only)
  TimestepEmbedding time_embedding;
  std::optional<cpu::Act> time_embed_act;
  std::vector<DownStage> down;
  std::optional<MidStage> mid;
  std::vector<UpStage> up;
  GroupNorm conv_norm_out;
  cpu::Act act = cpu::Act::Silu;
  int64_t num_upsamplers = 0;
};

DiffusionUNet::DiffusionUNet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DiffusionUNet::~DiffusionUNet() = default;
const UNet2DConditionConfig& DiffusionUNet::config() const { return impl_->cfg; }

std::unique_ptr<DiffusionUNet> DiffusionUNet::load(const std::string& dir) {
  const HFConfig cfg = load_component_config(dir, kClass);
  return load(cfg, open_component_weights(dir));
}

std::unique_ptr<DiffusionUNet> DiffusionUNet::load(const HFConfig& hf, std::shared_ptr<const Checkpoint> ck) {
  auto m = std::make_unique<Impl>();
  m->cfg = UNet2DConditionConfig::from(hf);
  const UNet2DConditionConfig& c = m->cfg;
  const Weights root(std::move(ck));
  const size_t n = c.block_out_channels.size();
  m->act = diffusers_activation(c.act_fn, hf.label() + ": act_fn");

  Conv2dSpec cin;
  cin.in_channels = c.in_channels;
  cin.out_channels = c.block_out_channels[0];
  cin.kernel_h = cin.kernel_w = c.conv_in_kernel;
  cin.pad_h = cin.pad_w = (c.conv_in_kernel - 1) / 2;
  m->conv_in = Conv2d::load(root.pp("conv_in"), cin);

  std::optional<cpu::Act> post;
  if (!c.timestep_post_act.empty()) post = diffusers_activation(c.timestep_post_act, hf.label() + ": timestep_post_act");
  const bool fourier = c.time_embedding_type == "fourier";
  if (fourier) m->fourier_weight = root.pp("time_proj").get("weight", {c.time_embed_dim / 2});
  m->time_embedding = TimestepEmbedding::load(root.pp("time_embedding"), fourier ? c.time_embed_dim : c.block_out_channels[0],
                                              c.time_embed_dim, m->act, post, c.time_cond_proj_dim);
  if (!c.time_embedding_act_fn.empty())
    m->time_embed_act = diffusers_activation(c.time_embedding_act_fn, hf.label() + ": time_embedding_act_fn");

  StageOptions o;
  o.temb_channels = c.time_embed_dim;
  o.groups = c.norm_num_groups;
  o.eps = float(c.norm_eps);
  o.act = m->act;
  o.time_embedding_norm = c.resnet_time_scale_shift;

  auto xattn = [&](size_t i) {
    CrossAttnOptions x;
    x.heads = c.num_attention_heads[i];
    x.cross_attention_dim = c.cross_attention_dim[i];
    x.transformer_layers = c.transformer_layers_per_block[i];
    x.use_linear_projection = c.use_linear_projection;
    x.only_cross_attention = c.only_cross_attention[i];
    return x;
  };

  int64_t out_ch = c.block_out_channels[0];
  for (size_t i = 0; i < n; ++i) {
    const int64_t in_ch = out_ch;
    out_ch = c.block_out_channels[i];
    const bool cross = c.down_block_types[i] == "CrossAttnDownBlock2D";
    m->down.push_back(DownStage::load(root.pp("down_blocks").pp(int64_t(i)), in_ch, out_ch, c.layers_per_block[i], o,
                                      cross ? std::optional<CrossAttnOptions>(xattn(i)) : std::nullopt, i + 1 < n,
                                      c.downsample_padding));
  }

  if (!c.mid_block_type.empty()) {
    StageOptions mo = o;
    mo.output_scale_factor = c.mid_block_scale_factor;
    if (c.mid_block_type == "UNetMidBlock2DCrossAttn")
      m->mid = MidStage::load_cross_attn(root.pp("mid_block"), c.block_out_channels.back(), mo, xattn(n - 1));
    else
      m->mid = MidStage::load_plain(root.pp("mid_block"), c.block_out_channels.back(), mo, 0, false, 1, 0);
  }

  // Up blocks walk the reversed per-block lists.
  const std::vector<int64_t> rch(c.block_out_channels.rbegin(), c.block_out_channels.rend());
  const std::vector<int64_t> rlayers(c.layers_per_block.rbegin(), c.layers_per_block.rend());
  out_ch = rch[0];
  for (size_t i = 0; i < n; ++i) {
    const int64_t prev = out_ch;
    out_ch = rch[i];
    const int64_t in_ch = rch[std::min(i + 1, n - 1)];
    const bool last = i + 1 == n;
    if (!last) ++m->num_upsamplers;
    const bool cross = c.up_block_types[i] == "CrossAttnUpBlock2D";
    std::optional<CrossAttnOptions> x;
    if (cross) x = xattn(n - 1 - i);
    m->up.push_back(UpStage::load_unet(root.pp("up_blocks").pp(int64_t(i)), in_ch, prev, out_ch, rlayers[i] + 1, o, x,
                                       !last));
  }

  m->conv_norm_out = GroupNorm::load(root.pp("conv_norm_out"), c.norm_num_groups, c.block_out_channels[0],
                                     float(c.norm_eps));
  Conv2dSpec cout;
  cout.in_channels = c.block_out_channels[0];
  cout.out_channels = c.out_channels;
  cout.kernel_h = cout.kernel_w = c.conv_out_kernel;
  cout.pad_h = cout.pad_w = (c.conv_out_kernel - 1) / 2;
  m->conv_out = Conv2d::load(root.pp("conv_out"), cout);
  return std::unique_ptr<DiffusionUNet>(new DiffusionUNet(std::move(m)));
}

Tensor DiffusionUNet::forward(const Tensor& sample_in, const Tensor& timestep, const Tensor& encoder_hidden_states,
                              std::map<std::string, Tensor>* inter, const Tensor& timestep_cond) const {
  const Impl& m = *impl_;
  const UNet2DConditionConfig& c = m.cfg;
  IA_CHECK(sample_in.defined() && sample_in.rank() == 4 && sample_in.dim(1) == c.in_channels,
           "UNet2DConditionModel: sample ", sample_in.defined() ? shape_str(sample_in.shape()) : "(none)",
           " must be [B, ", c.in_channels, ", H, W]");
  const int64_t B = sample_in.dim(0);
  IA_CHECK(B > 0 && sample_in.dim(2) > 0 && sample_in.dim(3) > 0, "UNet2DConditionModel: empty sample");
  IA_CHECK(encoder_hidden_states.defined() && encoder_hidden_states.rank() == 3 && encoder_hidden_states.dim(0) == B &&
               encoder_hidden_states.dim(1) > 0,
           "UNet2DConditionModel: encoder_hidden_states ",
           encoder_hidden_states.defined() ? shape_str(encoder_hidden_states.shape()) : "(none)", " must be [", B,
           ", S, ", c.cross_attention_dim[0], "]");
  IA_CHECK(timestep.defined() && (timestep.numel() == 1 || (timestep.rank() == 1 && timestep.dim(0) == B)),
           "UNet2DConditionModel: timestep ", timestep.defined() ? shape_str(timestep.shape()) : "(none)",
           " must be a scalar, [1] or [", B, "]");
  Tensor sample = sample_in.to_f32();
  const Tensor ctx = encoder_hidden_states.to_f32();
  auto keep = [&](const char* name, const Tensor& t) {
    if (inter) (*inter)[name] = t.clone();
  };

  // Odd latent sizes: the up blocks upsample to the skip's size instead of x2.
  const int64_t factor = int64_t(1) << m.num_upsamplers;
  const bool forward_upsample_size = sample.dim(2) % factor != 0 || sample.dim(3) % factor != 0;

  if (c.center_input_sample) {
    float* s = sample.f32();
    for (int64_t i = 0, e = sample.numel(); i < e; ++i) s[i] = 2.f * s[i] - 1.f;
  }
  // Timesteps: integer ones are cast to float32, one value broadcasts over the batch.
  const Tensor tf = timestep.to_f32();
  std::vector<float> ts(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) ts[size_t(b)] = tf.f32()[timestep.numel() == 1 ? 0 : b];
  Tensor t_emb = m.fourier_weight.defined()
                     ? gaussian_fourier_embedding(ts, m.fourier_weight, c.flip_sin_to_cos)
                     : sinusoidal_timestep_embedding(ts, c.block_out_channels[0], c.flip_sin_to_cos, c.freq_shift);
  keep("time_proj", t_emb);
  Tensor emb = m.time_embedding.forward(t_emb, timestep_cond);
  keep("time_embedding", emb);
  if (m.time_embed_act) cpu::apply_act(*m.time_embed_act, emb.f32(), emb.numel());

  Tensor h = m.conv_in.forward(sample);
  keep("conv_in", h);
  std::vector<Tensor> skips{h};
  for (size_t i = 0; i < m.down.size(); ++i) {
    h = m.down[i].forward(h, emb, ctx, &skips);
    if (inter) (*inter)["down_blocks." + std::to_string(i)] = h.clone();
  }
  if (m.mid) {
    h = m.mid->forward(h, emb, ctx);
    keep("mid_block", h);
  }
  for (size_t i = 0; i < m.up.size(); ++i) {
    const size_t used = m.up[i].resnets.size();
    IA_CHECK(skips.size() >= used, "UNet2DConditionModel: skip connections exhausted at up block ", i);
    std::optional<std::pair<int64_t, int64_t>> size;
    if (i + 1 < m.up.size() && forward_upsample_size) {
      const Tensor& next = skips[skips.size() - used - 1];
      size = std::make_pair(next.dim(2), next.dim(3));
    }
    h = m.up[i].forward(h, emb, ctx, &skips, size);
    if (inter) (*inter)["up_blocks." + std::to_string(i)] = h.clone();
  }
  h = m.conv_norm_out.forward(h, m.act);
  return m.conv_out.forward(h);
}

Tensor DiffusionUNet::forward(const Tensor& sample, double timestep, const Tensor& encoder_hidden_states) const {
  return forward(sample, Tensor::from_vector({float(timestep)}, {}), encoder_hidden_states);
}

}  // namespace ia::diffusion
