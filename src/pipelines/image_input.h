// Image inputs of the image, vision-text and multimodal pipelines: a file path,
// "-" for stdin, a data:image/...;base64 URI or bare base64 text. HTTP(S) URLs
// are rejected (nothing is fetched at run time). Decoding (PNG / JPEG only) is
// preprocess/image.h's; errors name the source.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "preprocess/image.h"

namespace ia {

// The raw bytes behind an image input; `what` receives a name for error messages.
std::vector<uint8_t> read_image_input(const std::string& spec, std::string* what);
Image load_image_input(const std::string& spec);
// Standard base64 (whitespace ignored, '=' padding optional); errors name `what`.
std::vector<uint8_t> decode_base64(const std::string& text, const std::string& what);

}  // namespace ia
