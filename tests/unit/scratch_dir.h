// A fresh directory under the system temp dir that is removed, with everything in
// it, when the owning object goes out of scope: tests make their scratch files in
// one and leave nothing behind in /tmp, whether they pass, fail or throw.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

namespace ia::test {

class ScratchDir {
 public:
  // Named after the running test, `tag` and the process id (plus a counter, so one
  // test can hold several), so test programs running in parallel never collide.
  explicit ScratchDir(const std::string& tag = "") {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("ia_") + (info ? info->test_suite_name() : "t") + "_" + (info ? info->name() : "x");
    if (!tag.empty()) name += "_" + tag;
    name += "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    // Parameterised tests are named "Prefix/Suite" and "Test/0": keep the name one path component.
    for (char& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { remove(); }
  ScratchDir(ScratchDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  ScratchDir& operator=(ScratchDir&& o) noexcept {
    if (this != &o) {
      remove();
      path_ = std::exchange(o.path_, {});
    }
    return *this;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::string p = file(name);
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    return p;
  }

 private:
  void remove() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path path_;
};

}  // namespace ia::test
