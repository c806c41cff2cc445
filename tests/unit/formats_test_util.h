// Helpers shared by the formats_* tests: hand-made safetensors images, scratch
// directories and assertions on ia::Error messages.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>

#include "core/error.h"
#include "scratch_dir.h"

namespace ia::test {

// An 8-byte little-endian header length, the header text, then the data section.
inline std::string st_image(const std::string& header, const std::string& data = "") {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xff);
  return out + header + data;
}

// Runs `f`, expects an ia::Error whose message contains every needle; returns the message.
inline std::string expect_error(const std::function<void()>& f, std::initializer_list<std::string> needles) {
  std::string msg;
  try {
    f();
  } catch (const ia::Error& e) {
    msg = e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ia::Error, got another exception: " << e.what();
    return "";
  }
  if (msg.empty()) {
    ADD_FAILURE() << "expected an ia::Error, nothing was thrown";
    return "";
  }
  for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "'" << n << "' missing from: " << msg;
  return msg;
}

}  // namespace ia::test
