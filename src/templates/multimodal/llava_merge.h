// LLaVA's image-token expansion, exactly as transformers 4.44.2
// LlavaForConditionalGeneration._merge_input_ids_with_image_features does it:
// every image token in input_ids is replaced by all patch features of one image,
// text embeddings move right accordingly, rows are aligned (left-padded when no
// row ends in the pad token), pad-token positions get zero embeddings, and
// positions come from cumsum(mask) - 1 (masked positions -> 1).
#pragma once
#include <cstdint>
#include <vector>

namespace ia {

struct LlavaMergeInput {
  int64_t batch = 0, seq = 0, embed_dim = 0;
  const int64_t* input_ids = nullptr;       // [B, S]
  const int64_t* attention_mask = nullptr;  // [B, S]
  const float* text_embeds = nullptr;       // [B, S, E] (rows of image tokens are ignored)
  int64_t num_images = 0, num_patches = 0;
  const float* image_features = nullptr;    // [num_images, num_patches, E]
  int64_t image_token_index = 0;
  int64_t pad_token_id = -1;                // config.pad_token_id, -1 when null
};

struct LlavaMerged {
  int64_t batch = 0, length = 0, embed_dim = 0;
  std::vector<float> embeds;                // [B, L, E]
  std::vector<int64_t> attention_mask;      // [B, L]
  std::vector<int64_t> position_ids;        // [B, L]
};

// Errors (ia::Error) when the image tokens and the number of images do not match,
// with transformers' explanation.
LlavaMerged llava_merge_image_features(const LlavaMergeInput& in);

}  // namespace ia
