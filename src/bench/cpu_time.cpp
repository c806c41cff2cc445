#include "bench/cpu_time.h"

#include <sys/resource.h>

namespace ia::bench {

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

}  // namespace ia::bench
