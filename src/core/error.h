// Error type used across the engine: every failure carries a message naming
// the file / tensor / field at fault, so users never see a bare crash.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace ia {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// Raised when a model type, task or case is valid but not implemented here.
class Unsupported : public Error {
 public:
  explicit Unsupported(const std::string& msg) : Error(msg) {}
};

template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

}  // namespace ia

#define IA_CHECK(cond, ...)                  \
  do {                                       \
    if (!(cond)) ::ia::fail(__VA_ARGS__);    \
  } while (0)
