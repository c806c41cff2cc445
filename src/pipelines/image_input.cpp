#include "pipelines/image_input.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "core/error.h"

namespace ia {

namespace {

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

bool looks_like_base64(const std::string& s) {
  if (s.size() < 16) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r'))
      return false;
  return true;
}

}  // namespace

std::vector<uint8_t> decode_base64(const std::string& text, const std::string& what) {
  std::vector<uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    int v = c >= 'A' && c <= 'Z' ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+' ? 62
            : c == '/' ? 63
                       : -1;
    IA_CHECK(v >= 0 && !padding, what, ": invalid base64 data (unexpected character '", c, "')");
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t((acc >> bits) & 0xFF));
    }
  }
  IA_CHECK(!out.empty(), what, ": empty base64 data");
  return out;
}

std::vector<uint8_t> read_image_input(const std::string& spec, std::string* what) {
  IA_CHECK(!spec.empty(), "empty image input: give a file path, '-' for stdin, or base64 data");
  if (starts_with(spec, "http://") || starts_with(spec, "https://"))
    fail(spec, ": URLs are not fetched; download the image and pass the file path");
  if (spec == "-") {
    *what = "stdin";
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    IA_CHECK(!data.empty(), "stdin: no image data");
    return std::vector<uint8_t>(data.begin(), data.end());
  }
  if (starts_with(spec, "data:")) {
    *what = "data URI";
    const size_t comma = spec.find(',');
    IA_CHECK(comma != std::string::npos && spec.substr(0, comma).find(";base64") != std::string::npos,
             "data URI: only base64 data URIs (data:image/png;base64,...) are accepted");
    return decode_base64(spec.substr(comma + 1), *what);
  }
  std::error_code ec;
  if (std::filesystem::is_regular_file(spec, ec)) {
    *what = spec;
    std::ifstream in(spec, std::ios::binary);
    IA_CHECK(in.good(), spec, ": cannot open");
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  if (looks_like_base64(spec)) {
    *what = "base64 input";
    return decode_base64(spec, *what);
  }
  fail(spec, ": no such image file (inputs are file paths, '-' for stdin, or base64 data)");
}

Image load_image_input(const std::string& spec) {
  std::string what;
  std::vector<uint8_t> bytes = read_image_input(spec, &what);
  return decode_image_bytes(bytes.data(), bytes.size(), what);
}

}  // namespace ia
