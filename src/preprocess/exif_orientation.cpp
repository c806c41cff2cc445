// EXIF orientation, applied the way PIL.ImageOps.exif_transpose does (which is
// what transformers.image_utils.load_image runs before convert("RGB")): the
// Orientation tag (0x0112) of IFD0, read from a JPEG's first "Exif" APP1
// segment or a PNG's eXIf chunk; malformed or absent EXIF means no change.
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "preprocess/image.h"

namespace ia {

namespace {

// Orientation from a TIFF-structured EXIF block, 1 when absent or unreadable.
int tiff_orientation(const uint8_t* d, size_t n) {
  if (n >= 6 && std::memcmp(d, "Exif\0\0", 6) == 0) d += 6, n -= 6;
  if (n < 8) return 1;
  const bool le = d[0] == 'I' && d[1] == 'I';
  if (!le && !(d[0] == 'M' && d[1] == 'M')) return 1;
  auto u16 = [&](size_t o) { return le ? uint32_t(d[o] | (d[o + 1] << 8)) : uint32_t((d[o] << 8) | d[o + 1]); };
  auto u32 = [&](size_t o) { return le ? (u16(o) | (u16(o + 2) << 16)) : ((u16(o) << 16) | u16(o + 2)); };
  if (u16(2) != 42) return 1;
  const size_t ifd = u32(4);
  if (ifd > n || n - ifd < 2) return 1;
  const size_t count = u16(ifd);
  for (size_t i = 0; i < count; ++i) {
    const size_t e = ifd + 2 + i * 12;
    if (e > n || n - e < 12) return 1;
    if (u16(e) == 0x0112 && u16(e + 2) == 3 && u32(e + 4) >= 1) return int(u16(e + 8));
  }
  return 1;
}

int jpeg_orientation(const uint8_t* d, size_t n) {
  size_t pos = 2;
  while (pos + 4 <= n && d[pos] == 0xFF) {
    const uint8_t marker = d[pos + 1];
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) break;  // image data starts: no EXIF before it
    const size_t len = size_t((d[pos + 2] << 8) | d[pos + 3]);
    if (len < 2 || len > n - pos - 2) break;
    if (marker == 0xE1 && len >= 8 && std::memcmp(d + pos + 4, "Exif\0\0", 6) == 0)
      return tiff_orientation(d + pos + 4, len - 2);
    pos += 2 + len;
  }
  return 1;
}

int png_orientation(const uint8_t* d, size_t n) {
  size_t pos = 8;
  while (pos + 12 <= n) {
    const size_t len = (size_t(d[pos]) << 24) | (size_t(d[pos + 1]) << 16) | (size_t(d[pos + 2]) << 8) | d[pos + 3];
    if (len > n - pos - 12) break;
    if (std::memcmp(d + pos + 4, "eXIf", 4) == 0) return tiff_orientation(d + pos + 8, len);
    if (std::memcmp(d + pos + 4, "IDAT", 4) == 0 || std::memcmp(d + pos + 4, "IEND", 4) == 0) break;
    pos += 12 + len;
  }
  return 1;
}

}  // namespace

int exif_orientation(const uint8_t* data, size_t n) {
  if (n >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) return png_orientation(data, n);
  if (n >= 3 && std::memcmp(data, "\xff\xd8\xff", 3) == 0) return jpeg_orientation(data, n);
  return 1;
}

Image apply_exif_orientation(const Image& in, int orientation) {
  if (orientation < 2 || orientation > 8) return in;
  const int64_t w = in.width, h = in.height;
  const bool swap = orientation >= 5;
  Image out;
  out.width = swap ? h : w;
  out.height = swap ? w : h;
  out.rgb.resize(in.rgb.size());
  for (int64_t r = 0; r < out.height; ++r) {
    for (int64_t c = 0; c < out.width; ++c) {
      int64_t sy = r, sx = c;  // PIL's transpose methods, as exif_transpose maps them
      switch (orientation) {
        case 2: sx = w - 1 - c; break;                       // FLIP_LEFT_RIGHT
        case 3: sy = h - 1 - r, sx = w - 1 - c; break;       // ROTATE_180
        case 4: sy = h - 1 - r; break;                       // FLIP_TOP_BOTTOM
        case 5: sy = c, sx = r; break;                       // TRANSPOSE
        case 6: sy = h - 1 - c, sx = r; break;               // ROTATE_270
        case 7: sy = h - 1 - c, sx = w - 1 - r; break;       // TRANSVERSE
        case 8: sy = c, sx = w - 1 - r; break;               // ROTATE_90
      }
      std::memcpy(&out.rgb[size_t((r * out.width + c) * 3)], &in.rgb[size_t((sy * w + sx) * 3)], 3);
    }
  }
  return out;
}

Image load_image_bytes(const uint8_t* data, size_t n, const std::string& what) {
  return apply_exif_orientation(decode_image_bytes(data, n, what), exif_orientation(data, n));
}

Image load_image_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  IA_CHECK(f.good(), path, ": cannot open image file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  IA_CHECK(!f.bad(), path, ": read error");
  return load_image_bytes(bytes.data(), bytes.size(), path);
}

}  // namespace ia
