// Pillow 9.4's Image.resize for 8-bit RGB images, reproduced bit for bit: the
// separable convolution resampler (horizontal pass, then vertical, each rounded
// to uint8 with 22-bit fixed-point coefficients; the filter support grows with
// the downscale factor, which is Pillow's antialiasing) and the nearest-neighbour
// affine path. transformers' image processors resize uint8 images through it.
#pragma once
#include "preprocess/image.h"

namespace ia {

// PIL.Image.Resampling codes, as stored in preprocessor_config.json "resample".
enum class Resample : int { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 };

// Throws ia::Error for codes outside 0..5; `what` names the source.
Resample resample_from_code(int64_t code, const std::string& what);

// Image.resize((out_w, out_h), resample) on an RGB image.
Image pil_resize(const Image& in, int64_t out_w, int64_t out_h, Resample filter);

}  // namespace ia
