// Options shared by several subcommands.
#include "cli/commands.h"
#include "formats/weight_placement.h"

namespace ia::cli {

void add_weights_option(CLI::App* cmd) {
  cmd->add_option_function<std::string>(
         "--weights", [](const std::string& s) { set_default_placement(parse_placement(s, "--weights")); },
         "Where the weights live: mmap (zero-copy page cache), hugepages (read into 2 MiB pages: faster "
         "decode), auto (hugepages for checkpoints >= 64 MiB when the kernel grants them and memory allows; "
         "default, or IA_WEIGHTS)")
      ->check(CLI::IsMember({"auto", "mmap", "hugepages"}));
}

}  // namespace ia::cli
