// The decoder-only template's parameters: everything that distinguishes one
// model type from another (one "row" per model type, filled from config.json in
// decoder_rows.cpp). The forward pass in decoder_model.cpp reads only this.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "parts/moe_ffn.h"
#include "parts/rope.h"

namespace ia {

struct ModelContext;

enum class NormKind { LayerNorm, RMSNorm, GemmaRMSNorm };  // Gemma: x * (1 + w)
enum class PosKind { None, Learned, Rotary, Alibi };
// How the checkpoint stores the q/k/v projections (all are converted at load to
// one fused weight with rows [q heads | k heads | v heads]).
enum class QKVLayout {
  Separate,     // q_proj, k_proj, v_proj
  Concat,       // one weight, rows [q | k | v]       (phi3, gpt2 c_attn, bigcode MQA, falcon multi_query)
  PerHead,      // one weight, per head [q k v]        (gpt_neox, bloom, bigcode MHA, falcon classic)
  PerKVGroup,   // per kv head [q * group, k, v]       (falcon new_decoder_architecture)
};
enum class ResidualKind {
  Sequential,   // x += attn(n1(x)); x += mlp(n2(x))
  Parallel,     // x += attn(n1(x)) + mlp(n2 ? n2(x) : n1(x))
  PostNorm,     // OPT do_layer_norm_before=false: x = n1(x + attn(x)); x = n2(x + mlp(x))
  Sandwich,     // Gemma-2: x += n_post_attn(attn(n1(x))); x += n_post_ff(mlp(n_pre_ff(x)))
};
enum class MlpKind { Plain, Gated };  // fc -> act -> proj  |  act(gate) * up -> down
// How forward() derives positions when the caller passes no position_ids.
enum class PositionSource { Arange, FromMaskFill1 /* cumsum-1, padding -> 1 */, FromMaskOpt /* cumsum*mask-1 */ };

struct DecoderParams {
  std::string model_type;
  int64_t vocab = 0, hidden = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0, intermediate = 0;
  int64_t embed_dim = 0;  // token embedding width (OPT word_embed_proj_dim; else hidden)

  // Norms.
  NormKind norm = NormKind::RMSNorm;
  float norm_eps = 1e-6f;
  bool norm_affine = true;  // OPT layer_norm_elementwise_affine

  // Weight names (relative to `base`; an empty name means "absent").
  std::vector<std::string> base_candidates;  // e.g. {"model", ""}
  std::string embed, pos_embed, embed_norm, project_in, project_out, final_norm;
  std::string layers;                         // "layers", "h", "decoder.layers", ...
  std::string norm1, norm2, norm_post_attn, norm_pre_ff, norm_post_ff;
  std::string q, k, v, qkv, o;                // q/k/v for Separate, qkv for fused layouts
  std::string q_norm, k_norm;                 // phi qk_layernorm (LayerNorm over head_dim)
  std::string fc, gate, up, gate_up, down;    // Plain: fc/down; Gated: gate+up or gate_up, down
  std::string lm_head = "lm_head";            // at the checkpoint root
  bool conv1d = false;                        // GPT-2 Conv1D [in, out] weights
  QKVLayout qkv_layout = QKVLayout::Separate;

  // Positions.
  PosKind pos = PosKind::Rotary;
  int64_t pos_offset = 0;                     // OPT learned positions start at 2
  PositionSource position_source = PositionSource::Arange;
  RopeParams rope;

  // Attention.
  float attn_scale = 1.f;
  std::vector<float> layer_scale;             // extra per-layer factor (gpt2 scale_attn_by_inverse_layer_idx)
  std::vector<int64_t> window;                // per layer sliding window (0 = global)
  float attn_softcap = 0.f, final_softcap = 0.f;
  bool alibi_scaled = false;                  // Falcon adds ALiBi before the 1/sqrt(d) scaling
  // Gemma-2 generate() runs on 4.44's HybridCache: sliding layers attend over a ring of
  // min(window, max_length) slots whose roll leaves a zero slot and a column-indexed
  // padding mask; reproduced in decoder_model.cpp (forward() is unaffected).
  bool hybrid_cache = false;
  // Gemma-2 generate() on a Dynamic/Static cache: the tril window never reaches the
  // single-token decode masks, so decode steps attend globally (prefill keeps the window).
  bool decode_ignores_window = false;

  // Block.
  ResidualKind residual = ResidualKind::Sequential;
  bool residual_from_normed = false;          // BLOOM apply_residual_connection_post_layernorm
  MlpKind mlp = MlpKind::Gated;
  cpu::Act act = cpu::Act::Silu;
  std::string act_name;
  MoeParams moe;                              // mixtral / qwen2_moe: layers whose FFN is a MoE block

  // Embedding / head.
  float embed_scale = 1.f;                    // Gemma: sqrt(hidden) (rounded to the activation dtype)
  bool tie_embeddings = false;

  // Generation.
  std::vector<int64_t> eos_ids;
  int64_t pad_id = -1;                        // -1: eos_ids[0]
};

// Builds the parameter row for ctx.model_type from its config.json; errors name
// the config file and field.
DecoderParams decoder_params_from_config(const ModelContext& ctx);
// The model types decoder_params_from_config knows.
const std::vector<std::string>& decoder_model_types();

const char* norm_kind_name(NormKind k);
const char* pos_kind_name(PosKind k);
const char* qkv_layout_name(QKVLayout l);
const char* residual_kind_name(ResidualKind r);

// The LLaMA module tree's weight names (model.layers.N.self_attn.q_proj, mlp.gate_proj, ...),
// shared by the LLaMA-style decoder rows and the Mixtral-style MoE rows.
void llama_style_names(DecoderParams& p);

}  // namespace ia
