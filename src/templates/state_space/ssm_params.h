// Template parameters of the state-space family, read from config.json with
// the defaults transformers 4.44.2 uses for mamba, mamba2 and rwkv.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "formats/hf_config.h"

namespace ia {

enum class SsmKind { Mamba, Mamba2, Rwkv };
const char* ssm_kind_name(SsmKind k);

struct SsmParams {
  SsmKind kind = SsmKind::Mamba;
  std::string model_type;
  int64_t vocab = 0, hidden = 0, n_layers = 0;
  double eps = 1e-5;
  bool tie_embeddings = false;
  bool use_cache = true;     // config.use_cache: 4.44's forward() runs the cache path (mamba2 masks padding there)
  std::vector<int64_t> eos_ids;
  int64_t pad_id = -1;
  uint64_t config_hash = 0;  // FNV-1a of config.json's content (names saved states)

  // Mamba / Mamba-2
  std::string act_name = "silu";
  cpu::Act act = cpu::Act::Silu;
  int64_t intermediate = 0, state_size = 0, conv_kernel = 0, time_step_rank = 0;
  bool use_bias = false, use_conv_bias = true, residual_in_fp32 = true;
  // Mamba-2
  int64_t n_heads = 0, head_dim = 0, n_groups = 1, chunk_size = 256;
  double time_step_min = 0.001;
  double time_step_limit[2] = {0.0, 0.0};  // read for describe(); 4.44's torch path clamps with time_step_min only
  bool norm_before_gate = true, rms_norm = true;
  // RWKV
  int64_t attention_hidden = 0, rwkv_intermediate = 0, rescale_every = 0, context_length = 0;
};

SsmParams read_ssm_params(const HFConfig& cfg, const HFConfig* gen_cfg, const std::string& model_type);
std::vector<std::string> ssm_model_types();

}  // namespace ia
