#include "templates/multimodal/llava_merge.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace ia {

LlavaMerged llava_merge_image_features(const LlavaMergeInput& in) {
  const int64_t B = in.batch, S = in.seq, E = in.embed_dim, P = in.num_patches;
  IA_CHECK(B > 0 && S > 0 && E > 0 && P > 0, "llava: empty merge input (batch ", B, ", seq ", S, ", patches ", P, ")");
  const int64_t* ids = in.input_ids;

  // left_padding = no row ends in the pad token.
  bool any_last_pad = false;
  for (int64_t b = 0; b < B; ++b) any_last_pad = any_last_pad || ids[b * S + S - 1] == in.pad_token_id;
  const bool left_padding = !any_last_pad;

  std::vector<int64_t> n_special(size_t(B), 0);
  int64_t total_special = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      if (ids[b * S + s] == in.image_token_index) ++n_special[size_t(b)], ++total_special;
  const int64_t max_special = *std::max_element(n_special.begin(), n_special.end());
  const int64_t L = max_special * (P - 1) + S;

  // new_token_positions = cumsum(is_image * (P - 1) + 1) - 1 (+ left-padding offset).
  std::vector<int64_t> ntp(static_cast<size_t>(B * S)), nb_image_pad(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    int64_t c = 0;
    for (int64_t s = 0; s < S; ++s) {
      c += ids[b * S + s] == in.image_token_index ? P : 1;
      ntp[size_t(b * S + s)] = c - 1;
    }
    nb_image_pad[size_t(b)] = L - 1 - ntp[size_t(b * S + S - 1)];
    if (left_padding)
      for (int64_t s = 0; s < S; ++s) ntp[size_t(b * S + s)] += nb_image_pad[size_t(b)];
  }

  LlavaMerged m;
  m.batch = B;
  m.length = L;
  m.embed_dim = E;
  m.embeds.assign(size_t(B * L * E), 0.f);
  m.attention_mask.assign(size_t(B * L), 0);
  m.position_ids.assign(size_t(B * L), 0);
  std::vector<char> image_slot(size_t(B * L), 1);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      if (ids[b * S + s] == in.image_token_index) continue;
      const int64_t t = ntp[size_t(b * S + s)];
      // Indices can leave [0, L) only for inputs transformers would also reject.
      IA_CHECK(t >= 0 && t < L, "llava: text position ", t, " falls outside the merged sequence of ", L);
      std::memcpy(m.embeds.data() + (b * L + t) * E, in.text_embeds + (b * S + s) * E, size_t(E) * 4);
      m.attention_mask[size_t(b * L + t)] = in.attention_mask[b * S + s];
      image_slot[size_t(b * L + t)] = 0;
    }
  // The first nb_image_pad free slots of a row stay empty (padding).
  int64_t n_image_slots = 0;
  for (int64_t b = 0; b < B; ++b) {
    int64_t c = 0;
    for (int64_t t = 0; t < L; ++t) {
      char& slot = image_slot[size_t(b * L + t)];
      c += slot;
      slot = slot && (c - 1 >= nb_image_pad[size_t(b)]);
      n_image_slots += slot;
    }
  }
  if (n_image_slots != in.num_images * P)
    fail("llava: the input provided to the model are wrong. The number of image tokens is ", total_special,
         " while the number of image given to the model is ", in.num_images,
         ". This prevents correct indexing and breaks batch generation.");
  // Image features fill the image slots in order.
  const float* feat = in.image_features;
  for (int64_t i = 0; i < B * L; ++i)
    if (image_slot[size_t(i)]) {
      std::memcpy(m.embeds.data() + i * E, feat, size_t(E) * 4);
      feat += E;
      m.attention_mask[size_t(i)] |= 1;
    }
  for (int64_t b = 0; b < B; ++b) {
    int64_t c = 0;
    for (int64_t t = 0; t < L; ++t) {
      const int64_t mk = m.attention_mask[size_t(b * L + t)];
      c += mk;
      m.position_ids[size_t(b * L + t)] = mk == 0 ? 1 : c - 1;
    }
  }
  // Pad tokens get zero embeddings (at their shifted positions).
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      if (ids[b * S + s] == in.pad_token_id) {
        const int64_t t = ntp[size_t(b * S + s)];
        IA_CHECK(t >= 0 && t < L, "llava: pad position ", t, " falls outside the merged sequence of ", L);
        std::fill(m.embeds.begin() + (b * L + t) * E, m.embeds.begin() + (b * L + t + 1) * E, 0.f);
      }
  return m;
}

}  // namespace ia
