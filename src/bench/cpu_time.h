// CPU time this process has used (all threads, user + system). Next to wall
// time it shows how much of the machine a benchmark actually got: on a shared
// machine utilisation = cpu / (wall x threads) falls well below 1.
#pragma once

namespace ia::bench {

double process_cpu_seconds();

}  // namespace ia::bench
