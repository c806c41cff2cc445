// Preamble of the kernel files that compile per-ISA regions (#pragma GCC target):
// the intrinsics header, and the warnings GCC 12 raises falsely inside its own AVX-512
// intrinsic headers (-Wuninitialized positives), silenced for the including file.
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
