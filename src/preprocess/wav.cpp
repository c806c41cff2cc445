// RIFF/WAVE parsing: walks the chunks, validates the fmt chunk and converts the
// data chunk to float. Every defect is reported with the source's name.
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "preprocess/audio.h"

namespace ia {

namespace {

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }

constexpr uint16_t kPcm = 1, kFloat = 3, kExtensible = 0xFFFE;

const char* format_name(uint16_t tag) {
  switch (tag) {
    case 2: return "Microsoft ADPCM";
    case 6: return "A-law";
    case 7: return "mu-law";
    case 0x11: return "IMA ADPCM";
    case 0x55: return "MP3";
    default: return nullptr;
  }
}

}  // namespace

Audio decode_wav_bytes(const uint8_t* d, size_t n, const std::string& what) {
  IA_CHECK(d != nullptr && n > 0, what, ": empty audio data");
  if (n >= 4 && (std::memcmp(d, "RF64", 4) == 0 || std::memcmp(d, "BW64", 4) == 0))
    fail(what, ": RF64/BW64 (64-bit WAV) is not supported");
  if (n >= 4 && std::memcmp(d, "RIFX", 4) == 0) fail(what, ": big-endian WAV (RIFX) is not supported");
  IA_CHECK(n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WAVE", 4) == 0, what,
           ": not a WAV file (expected a RIFF/WAVE header; only WAV audio is supported)");
  size_t pos = 12;
  bool have_fmt = false;
  uint16_t tag = 0, channels = 0, block_align = 0, bits = 0;
  uint32_t rate = 0;
  const uint8_t* data = nullptr;
  size_t data_size = 0;
  while (pos + 8 <= n) {
    const uint8_t* ch = d + pos;
    const uint32_t size = le32(ch + 4);
    const size_t avail = n - pos - 8;
    if (std::memcmp(ch, "fmt ", 4) == 0) {
      IA_CHECK(size >= 16 && size <= avail, what, ": fmt chunk is truncated or too short (", size, " bytes)");
      tag = le16(ch + 8);
      channels = le16(ch + 10);
      rate = le32(ch + 12);
      block_align = le16(ch + 20);
      bits = le16(ch + 22);
      if (tag == kExtensible) {
        IA_CHECK(size >= 40, what, ": WAVE_FORMAT_EXTENSIBLE fmt chunk is too short (", size, " bytes)");
        const uint16_t sub = le16(ch + 8 + 24);
        // The GUID's remaining 14 bytes are the fixed KSDATAFORMAT suffix.
        static const uint8_t suffix[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
        IA_CHECK(std::memcmp(ch + 8 + 26, suffix, 14) == 0, what, ": WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID");
        tag = sub;
      }
      have_fmt = true;
    } else if (std::memcmp(ch, "data", 4) == 0) {
      IA_CHECK(have_fmt, what, ": data chunk before the fmt chunk");
      // 0xFFFFFFFF (and sizes past the end) are written by streaming encoders: use what is there.
      data = ch + 8;
      data_size = size == 0xFFFFFFFFu ? avail : size;
      IA_CHECK(data_size <= avail, what, ": data chunk is truncated (header says ", size, " bytes, file has ", avail, ")");
      break;
    }
    const size_t step = 8 + size_t(size) + (size & 1);  // chunks are padded to even sizes
    if (step > n - pos) break;
    pos += step;
  }
  IA_CHECK(have_fmt, what, ": WAV file has no fmt chunk");
  IA_CHECK(data != nullptr, what, ": WAV file has no data chunk");
  if (tag != kPcm && tag != kFloat) {
    const char* name = format_name(tag);
    fail(what, ": unsupported WAV encoding ", name ? name : "", name ? " " : "", "(format tag ", tag,
         "; supported: PCM 8/16/24/32-bit and IEEE float 32/64-bit)");
  }
  IA_CHECK(channels >= 1 && channels <= 64, what, ": invalid channel count ", channels);
  IA_CHECK(rate >= 1 && rate <= 1000000, what, ": invalid sample rate ", rate);
  if (tag == kPcm)
    IA_CHECK(bits == 8 || bits == 16 || bits == 24 || bits == 32, what, ": unsupported PCM sample size ", bits,
             " bits (supported: 8, 16, 24, 32)");
  else
    IA_CHECK(bits == 32 || bits == 64, what, ": unsupported float sample size ", bits, " bits (supported: 32, 64)");
  const size_t bytes = bits / 8;
  IA_CHECK(block_align == bytes * channels, what, ": block align ", block_align, " does not match ", channels,
           " channels of ", bits, "-bit samples");
  const int64_t frames = int64_t(data_size / block_align);
  IA_CHECK(frames * channels <= kMaxAudioSamples, what, ": audio too long (", frames, " frames)");

  Audio a;
  a.sample_rate = int(rate);
  a.channels = channels;
  a.frames = frames;
  const size_t count = size_t(frames) * channels;
  a.samples.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* p = data + i * bytes;
    float v;
    if (tag == kFloat) {
      if (bits == 32) {
        float f;
        std::memcpy(&f, p, 4);
        v = f;
      } else {
        double f;
        std::memcpy(&f, p, 8);
        v = float(f);
      }
    } else if (bits == 8) {
      v = float(int(p[0]) - 128) / 128.0f;
    } else if (bits == 16) {
      v = float(int16_t(le16(p))) / 32768.0f;
    } else if (bits == 24) {
      const int32_t s = int32_t((uint32_t(p[0]) << 8) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 24)) >> 8;
      v = float(s) / 8388608.0f;
    } else {
      v = float(double(int32_t(le32(p))) / 2147483648.0);
    }
    a.samples[i] = v;
  }
  return a;
}

Audio decode_wav_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  IA_CHECK(f.good(), path, ": cannot open audio file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  IA_CHECK(!f.bad(), path, ": read error");
  return decode_wav_bytes(bytes.data(), bytes.size(), path);
}

Audio downmix_to_mono(const Audio& a) {
  IA_CHECK(a.channels >= 1 && a.samples.size() == size_t(a.frames) * size_t(a.channels),
           "downmix_to_mono: invalid audio (", a.channels, " channels, ", a.frames, " frames, ", a.samples.size(),
           " samples)");
  if (a.channels == 1) return a;
  Audio m;
  m.sample_rate = a.sample_rate;
  m.channels = 1;
  m.frames = a.frames;
  m.samples.resize(size_t(a.frames));
  for (int64_t t = 0; t < a.frames; ++t) {
    float s = 0.0f;
    for (int c = 0; c < a.channels; ++c) s += a.samples[size_t(t * a.channels + c)];
    m.samples[size_t(t)] = s / float(a.channels);
  }
  return m;
}

}  // namespace ia
