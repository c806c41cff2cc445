#include "templates/diffusion/autoencoder_kl.h"

#include <cmath>

#include "core/error.h"
#include "parts/conv.h"
#include "parts/group_norm.h"
#include "parts/timestep_embedding.h"
#include "templates/diffusion/diffusers_component.h"
#include "templates/diffusion/unet_blocks.h"

namespace ia::diffusion {

namespace {

const char* kClass = "AutoencoderKL";

std::vector<double> float_list_or_empty(const HFConfig& cfg, const std::string& key) {
  std::vector<double> r;
  const auto& j = cfg.raw();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return r;
  IA_CHECK(it->is_array(), cfg.label(), ": field ", key, " must be a list of numbers or null");
  for (const auto& e : *it) {
    IA_CHECK(e.is_number(), cfg.label(), ": field ", key, " must hold numbers");
    r.push_back(e.get<double>());
  }
  return r;
}

Conv2d conv3x3(const Weights& w, int64_t in, int64_t out) {
  Conv2dSpec s;
  s.in_channels = in;
  s.out_channels = out;
  s.kernel_h = s.kernel_w = 3;
  s.pad_h = s.pad_w = 1;
  return Conv2d::load(w, s);
}

Conv2d conv1x1(const Weights& w, int64_t in, int64_t out) {
  Conv2dSpec s;
  s.in_channels = in;
  s.out_channels = out;
  return Conv2d::load(w, s);
}

}  // namespace

AutoencoderKLConfig AutoencoderKLConfig::from(const HFConfig& cfg) {
  AutoencoderKLConfig c;
  c.in_channels = cfg.get_int("in_channels", 3);
  c.out_channels = cfg.get_int("out_channels", 3);
  c.latent_channels = cfg.get_int("latent_channels", 4);
  c.down_block_types =
      cfg.has("down_block_types") ? string_list(cfg, "down_block_types") : std::vector<std::string>{"DownEncoderBlock2D"};
  c.up_block_types =
      cfg.has("up_block_types") ? string_list(cfg, "up_block_types") : std::vector<std::string>{"UpDecoderBlock2D"};
  c.block_out_channels = cfg.has("block_out_channels") ? int_list(cfg, "block_out_channels") : std::vector<int64_t>{64};
  const size_t n = c.block_out_channels.size();
  IA_CHECK(c.down_block_types.size() == n, cfg.label(), ": field down_block_types has ", c.down_block_types.size(),
           " entries, expected one per block_out_channels entry (", n, ")");
  IA_CHECK(c.up_block_types.size() == n, cfg.label(), ": field up_block_types has ", c.up_block_types.size(),
           " entries, expected one per block_out_channels entry (", n, ")");
  for (const auto& t : c.down_block_types)
    if (t != "DownEncoderBlock2D") throw Unsupported(cat(cfg.label(), ": down block type '", t, "' is not supported"));
  for (const auto& t : c.up_block_types)
    if (t != "UpDecoderBlock2D") throw Unsupported(cat(cfg.label(), ": up block type '", t, "' is not supported"));
  c.layers_per_block = cfg.get_int("layers_per_block", 1);
  IA_CHECK(c.layers_per_block > 0, cfg.label(), ": field layers_per_block must be positive");
  c.act_fn = cfg.get_string("act_fn", "silu");
  c.norm_num_groups = cfg.get_int("norm_num_groups", 32);
  c.sample_size = cfg.raw().contains("sample_size") && cfg.raw()["sample_size"].is_number_integer()
                      ? cfg.get_int("sample_size")
                      : 0;
  c.scaling_factor = cfg.get_float("scaling_factor", 0.18215);
  if (cfg.has("shift_factor")) c.shift_factor = cfg.get_float("shift_factor");
  c.latents_mean = float_list_or_empty(cfg, "latents_mean");
  c.latents_std = float_list_or_empty(cfg, "latents_std");
  c.force_upcast = cfg.get_bool("force_upcast", true);
  c.use_quant_conv = cfg.get_bool("use_quant_conv", true);
  c.use_post_quant_conv = cfg.get_bool("use_post_quant_conv", true);
  c.mid_block_add_attention = cfg.get_bool("mid_block_add_attention", true);
  IA_CHECK(c.in_channels > 0 && c.out_channels > 0 && c.latent_channels > 0, cfg.label(),
           ": fields in_channels/out_channels/latent_channels must be positive");
  return c;
}

Tensor LatentDistribution::sample(const Tensor& noise) const {
  IA_CHECK(noise.defined() && noise.shape() == mean.shape(), "LatentDistribution.sample: noise ",
           noise.defined() ? shape_str(noise.shape()) : "(none)", " must have the latent shape ",
           shape_str(mean.shape()));
  const Tensor z = noise.to_f32();
  Tensor out = Tensor::f32(mean.shape());
  for (int64_t i = 0, n = out.numel(); i < n; ++i) out.f32()[i] = mean.f32()[i] + std.f32()[i] * z.f32()[i];
  return out;
}

struct AutoencoderKL::Impl {
  AutoencoderKLConfig cfg;
  // encoder
  Conv2d enc_conv_in, enc_conv_out;
  std::vector<DownStage> enc_down;
  MidStage enc_mid;
  GroupNorm enc_norm_out;
  // decoder
  Conv2d dec_conv_in, dec_conv_out;
  MidStage dec_mid;
  std::vector<UpStage> dec_up;
  GroupNorm dec_norm_out;
  std::optional<Conv2d> quant_conv, post_quant_conv;
};

AutoencoderKL::AutoencoderKL(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AutoencoderKL::~AutoencoderKL() = default;
const AutoencoderKLConfig& AutoencoderKL::config() const { return impl_->cfg; }
int64_t AutoencoderKL::vae_scale_factor() const { return int64_t(1) << (impl_->cfg.block_out_channels.size() - 1); }

std::unique_ptr<AutoencoderKL> AutoencoderKL::load(const std::string& dir) {
  const HFConfig cfg = load_component_config(dir, kClass);
  return load(cfg, open_component_weights(dir));
}

std::unique_ptr<AutoencoderKL> AutoencoderKL::load(const HFConfig& hf, std::shared_ptr<const Checkpoint> ck) {
  auto m = std::make_unique<Impl>();
  m->cfg = AutoencoderKLConfig::from(hf);
  const AutoencoderKLConfig& c = m->cfg;
  const Weights root(std::move(ck));
  const size_t n = c.block_out_channels.size();
  const auto& ch = c.block_out_channels;
  StageOptions o;  // VAE stages: no time embedding, eps 1e-6 everywhere
  o.groups = c.norm_num_groups;
  o.eps = 1e-6f;
  o.act = diffusers_activation(c.act_fn, hf.label() + ": act_fn");

  const Weights enc = root.pp("encoder");
  m->enc_conv_in = conv3x3(enc.pp("conv_in"), c.in_channels, ch[0]);
  int64_t out_ch = ch[0];
  for (size_t i = 0; i < n; ++i) {
    const int64_t in_ch = out_ch;
    out_ch = ch[i];
    m->enc_down.push_back(DownStage::load(enc.pp("down_blocks").pp(int64_t(i)), in_ch, out_ch, c.layers_per_block, o,
                                          std::nullopt, i + 1 < n, 0));
  }
  // Mid attention: one head over all channels; its GroupNorm uses the resnet groups.
  m->enc_mid = MidStage::load_plain(enc.pp("mid_block"), ch.back(), o, 1, c.mid_block_add_attention, ch.back(),
                                    c.norm_num_groups);
  m->enc_norm_out = GroupNorm::load(enc.pp("conv_norm_out"), c.norm_num_groups, ch.back(), 1e-6f);
  m->enc_conv_out = conv3x3(enc.pp("conv_out"), ch.back(), 2 * c.latent_channels);

  const Weights dec = root.pp("decoder");
  m->dec_conv_in = conv3x3(dec.pp("conv_in"), c.latent_channels, ch.back());
  m->dec_mid = MidStage::load_plain(dec.pp("mid_block"), ch.back(), o, 1, c.mid_block_add_attention, ch.back(),
                                    c.norm_num_groups);
  out_ch = ch.back();
  for (size_t i = 0; i < n; ++i) {
    const int64_t prev = out_ch;
    out_ch = ch[n - 1 - i];
    m->dec_up.push_back(UpStage::load_decoder(dec.pp("up_blocks").pp(int64_t(i)), prev, out_ch,
                                              c.layers_per_block + 1, o, i + 1 < n));
  }
  m->dec_norm_out = GroupNorm::load(dec.pp("conv_norm_out"), c.norm_num_groups, ch[0], 1e-6f);
  m->dec_conv_out = conv3x3(dec.pp("conv_out"), ch[0], c.out_channels);

  if (c.use_quant_conv) m->quant_conv = conv1x1(root.pp("quant_conv"), 2 * c.latent_channels, 2 * c.latent_channels);
  if (c.use_post_quant_conv) m->post_quant_conv = conv1x1(root.pp("post_quant_conv"), c.latent_channels, c.latent_channels);
  return std::unique_ptr<AutoencoderKL>(new AutoencoderKL(std::move(m)));
}

LatentDistribution AutoencoderKL::encode(const Tensor& image, std::map<std::string, Tensor>* inter) const {
  const Impl& m = *impl_;
  const AutoencoderKLConfig& c = m.cfg;
  IA_CHECK(image.defined() && image.rank() == 4 && image.dim(1) == c.in_channels && image.dim(0) > 0,
           "AutoencoderKL.encode: image ", image.defined() ? shape_str(image.shape()) : "(none)", " must be [B, ",
           c.in_channels, ", H, W]");
  Tensor h = m.enc_conv_in.forward(image.to_f32());
  for (const auto& d : m.enc_down) h = d.forward(h, Tensor(), Tensor(), nullptr);
  h = m.enc_mid.forward(h, Tensor(), Tensor());
  // The encoder's final activation is always SiLU (diffusers hard-codes nn.SiLU here).
  h = m.enc_conv_out.forward(m.enc_norm_out.forward(h, cpu::Act::Silu));
  if (inter) (*inter)["encoder_out"] = h;
  LatentDistribution d;
  d.moments = m.quant_conv ? m.quant_conv->forward(h) : h;
  const int64_t B = h.dim(0), L = c.latent_channels, P = h.dim(2) * h.dim(3);
  d.mean = Tensor::f32({B, L, h.dim(2), h.dim(3)});
  d.logvar = Tensor::f32(d.mean.shape());
  d.std = Tensor::f32(d.mean.shape());
  const float* mo = d.moments.f32();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < L * P; ++i) {
      const int64_t o = b * L * P + i;
      d.mean.f32()[o] = mo[b * 2 * L * P + i];
      const float lv = std::min(20.f, std::max(-30.f, mo[b * 2 * L * P + L * P + i]));
      d.logvar.f32()[o] = lv;
      d.std.f32()[o] = std::exp(0.5f * lv);
    }
  return d;
}

Tensor AutoencoderKL::decode(const Tensor& latents, std::map<std::string, Tensor>* inter) const {
  const Impl& m = *impl_;
  const AutoencoderKLConfig& c = m.cfg;
  IA_CHECK(latents.defined() && latents.rank() == 4 && latents.dim(1) == c.latent_channels && latents.dim(0) > 0,
           "AutoencoderKL.decode: latents ", latents.defined() ? shape_str(latents.shape()) : "(none)",
           " must be [B, ", c.latent_channels, ", h, w]");
  Tensor z = latents.to_f32();
  if (m.post_quant_conv) z = m.post_quant_conv->forward(z);
  if (inter) (*inter)["post_quant_conv"] = z;
  Tensor h = m.dec_conv_in.forward(z);
  if (inter) (*inter)["decoder.conv_in"] = h;
  h = m.dec_mid.forward(h, Tensor(), Tensor());
  if (inter) (*inter)["decoder.mid_block"] = h;
  for (size_t i = 0; i < m.dec_up.size(); ++i) {
    h = m.dec_up[i].forward(h, Tensor(), Tensor(), nullptr, std::nullopt);
    if (inter) (*inter)["decoder.up_blocks." + std::to_string(i)] = h;
  }
  return m.dec_conv_out.forward(m.dec_norm_out.forward(h, cpu::Act::Silu));
}

Tensor AutoencoderKL::forward(const Tensor& image) const { return decode(encode(image).mean); }

}  // namespace ia::diffusion
