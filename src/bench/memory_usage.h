// Resident-memory figures of this process (Linux /proc, getrusage fallback).
#pragma once
#include <cstdint>

namespace ia::bench {

int64_t peak_rss_bytes();     // VmHWM: high-water mark of resident memory
int64_t current_rss_bytes();  // VmRSS

}  // namespace ia::bench
