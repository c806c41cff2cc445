#include "templates/encoder_only/encoder_embeddings.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "templates/encoder_only/legacy_norm_names.h"

namespace ia {

Tensor sinusoidal_position_table(int64_t n_pos, int64_t dim) {
  Tensor t = Tensor::f32({n_pos, dim});
  float* o = t.f32();
  for (int64_t pos = 0; pos < n_pos; ++pos)
    for (int64_t j = 0; j < dim; ++j) {
      double angle = double(pos) / std::pow(10000.0, double(2 * (j / 2)) / double(dim));
      o[pos * dim + j] = float(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  return t;
}

EncoderEmbeddings EncoderEmbeddings::load(const Weights& base, const EncoderParams& p) {
  EncoderEmbeddings e;
  const Weights emb = base.pp("embeddings");
  const int64_t E = p.embedding_size, H = p.hidden_size;
  e.config_label = p.config_label;
  e.embedding_size = E;
  e.hidden_size = H;
  e.pad_token_id = p.pad_token_id;
  e.padding_idx_positions = p.padding_idx_positions;
  e.word = Embedding::load(emb.pp("word_embeddings"), p.vocab_size, E);
  e.add_positions = p.positions == PositionKind::Absolute;
  if (e.add_positions) {
    if (p.naming == EncoderNaming::DistilBert && p.sinusoidal_positions && !emb.has("position_embeddings.weight")) {
      // The sinusoidal table is a frozen parameter that checkpoints normally store; rebuild it when absent.
      e.position.table = sinusoidal_position_table(p.max_position_embeddings, E);
      e.position.vocab = p.max_position_embeddings;
      e.position.dim = E;
    } else {
      e.position = Embedding::load(emb.pp("position_embeddings"), p.max_position_embeddings, E);
    }
  }
  const bool has_token_types = p.naming == EncoderNaming::DistilBert ? false
                               : p.naming == EncoderNaming::DebertaV2 ? p.type_vocab_size > 0
                                                                      : true;
  if (has_token_types) e.token_type = Embedding::load(emb.pp("token_type_embeddings"), p.type_vocab_size, E);

  if (p.naming == EncoderNaming::DebertaV2) {
    if (E != H) e.project_before_norm = Linear::load(emb.pp("embed_proj"), E, H, false);
    e.norm = load_encoder_layer_norm(emb.pp("LayerNorm"), H, p.layer_norm_eps);
    e.zero_padded_rows = true;
  } else {
    e.norm = load_encoder_layer_norm(emb.pp("LayerNorm"), E, p.layer_norm_eps);
    if (p.naming == EncoderNaming::Albert)
      e.project_after_norm = Linear::load(base.pp("encoder").pp("embedding_hidden_mapping_in"), E, H, true);
    else if (E != H)
      e.project_after_norm = Linear::load(base.pp("embeddings_project"), E, H, true);
  }
  return e;
}

Tensor EncoderEmbeddings::forward(const Tensor& input_ids, const Tensor* token_type_ids, const Tensor* position_ids,
                                  const int64_t* mask) const {
  try {
    return embed(input_ids, token_type_ids, position_ids, mask);
  } catch (const Error& e) {  // name the model whose tables the ids do not fit
    throw Error(cat(config_label, ": ", e.what()));
  }
}

Tensor EncoderEmbeddings::embed(const Tensor& input_ids, const Tensor* token_type_ids, const Tensor* position_ids,
                                const int64_t* mask) const {
  IA_CHECK(input_ids.rank() == 2, "input_ids must be [batch, seq], got ", shape_str(input_ids.shape()));
  const int64_t B = input_ids.dim(0), T = input_ids.dim(1), N = B * T, E = embedding_size;
  Tensor ids = input_ids.to_i64();
  Tensor x = Tensor::f32({N, E});
  word.lookup(ids.i64(), N, x.f32(), "input_ids value");

  auto check_shape = [&](const Tensor& t, const char* name) {
    IA_CHECK(t.shape() == input_ids.shape(), name, " has shape ", shape_str(t.shape()), " but input_ids has ",
             shape_str(input_ids.shape()));
  };
  Tensor tt;
  if (token_type.table.defined()) {
    if (token_type_ids) {
      check_shape(*token_type_ids, "token_type_ids");
      tt = token_type_ids->to_i64();
    } else {
      tt = Tensor::zeros(DType::I64, {B, T});
    }
  }
  Tensor pos;
  if (add_positions) {
    if (position_ids) {
      check_shape(*position_ids, "position_ids");
      pos = position_ids->to_i64();
    } else {
      pos = Tensor::empty(DType::I64, {B, T});
      int64_t* pp = pos.i64();
      const int64_t* ip = ids.i64();
      for (int64_t b = 0; b < B; ++b) {
        int64_t count = 0;
        for (int64_t t = 0; t < T; ++t) {
          if (padding_idx_positions) {
            // RoBERTa: padding tokens keep padding_idx, real tokens count up from padding_idx + 1.
            const bool real = ip[b * T + t] != pad_token_id;
            count += real ? 1 : 0;
            pp[b * T + t] = real ? pad_token_id + count : pad_token_id;
          } else {
            pp[b * T + t] = t;
          }
        }
      }
    }
  }
  const bool deberta_order = project_before_norm.defined() || zero_padded_rows;
  if (deberta_order) {  // DeBERTa: word + position, then + token type
    if (pos.defined()) position.lookup_add(pos.i64(), N, x.f32(), "position id");
    if (tt.defined()) token_type.lookup_add(tt.i64(), N, x.f32(), "token_type_ids value");
  } else {  // BERT: word + token type, then + position
    if (tt.defined()) token_type.lookup_add(tt.i64(), N, x.f32(), "token_type_ids value");
    if (pos.defined()) position.lookup_add(pos.i64(), N, x.f32(), "position id");
  }
  if (project_before_norm.defined()) x = project_before_norm.forward(x);
  Tensor y = norm.forward(x);
  if (zero_padded_rows && mask) {
    const int64_t D = y.dim(1);
    for (int64_t r = 0; r < N; ++r)
      if (mask[r] == 0) std::memset(y.f32() + r * D, 0, size_t(D) * sizeof(float));
  }
  if (project_after_norm.defined()) y = project_after_norm.forward(y);
  return y;
}

}  // namespace ia
