#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "verify/verify.h"

#ifndef IA_SOURCE_DIR
#define IA_SOURCE_DIR "."
#endif

namespace ia::cli {

std::string bundled_fixtures_dir() {
  namespace fs = std::filesystem;
  // Installed layout first (<prefix>/share/ipfs_accelerate/fixtures), then the source tree.
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path shared = exe.parent_path().parent_path() / "share" / "ipfs_accelerate" / "fixtures";
    if (fs::is_directory(shared)) return shared.string();
  }
  return std::string(IA_SOURCE_DIR) + "/tests/fixtures";
}

Action add_verify(CLI::App& app) {
  auto* cmd = app.add_subcommand("verify", "Run every reference fixture under ROOT and compare with its tolerances");
  auto root = std::make_shared<std::string>();
  auto opts = std::make_shared<VerifyOptions>();
  cmd->add_option("root", *root, "Fixture directory (default: the bundled fixtures)");
  cmd->add_flag("--strict", opts->strict, "Count UNSUPPORTED cases as failures");
  cmd->add_option("--filter", opts->filter, "Only fixtures whose path contains this text");
  return [root, opts]() {
    std::string r = root->empty() ? bundled_fixtures_dir() : *root;
    VerifySummary s = verify_root(r, *opts, std::cout);
    return s.ok(opts->strict) ? 0 : 1;
  };
}

}  // namespace ia::cli
