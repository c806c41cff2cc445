#include "bench/memory_usage.h"

#include <sys/resource.h>

#include <fstream>
#include <sstream>
#include <string>

namespace ia::bench {

namespace {
// A "Key:   1234 kB" line of /proc/self/status in bytes, or -1.
int64_t proc_status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream is(line.substr(key.size() + 1));
    int64_t kb = -1;
    is >> kb;
    return kb < 0 ? -1 : kb * 1024;
  }
  return -1;
}
}  // namespace

int64_t peak_rss_bytes() {
  int64_t v = proc_status_kb("VmHWM");
  if (v >= 0) return v;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return int64_t(ru.ru_maxrss) * 1024;  // Linux reports kilobytes
}

int64_t current_rss_bytes() {
  int64_t v = proc_status_kb("VmRSS");
  return v >= 0 ? v : peak_rss_bytes();
}

}  // namespace ia::bench
