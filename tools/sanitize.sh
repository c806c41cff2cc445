#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer):
# configures build-asan with -DIA_SANITIZE=ON, builds, runs ctest. Any report fails the run.
# Kept lean for CI (2 cores): -O1 (the optimisation level ASan is designed for) and
# line-table-only debug info (-g1), which still gives file:line in every stack trace.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"

cmake -S . -B build-asan -DIA_SANITIZE=ON -DIA_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
cmake --build build-asan -j "$JOBS"

# halt_on_error / abort_on_error: the first report fails the test. detect_leaks: LSan on with
# no suppressions; OpenMP (libgomp) and oneDNN produce no leak reports, and a suppression
# matching libgomp would also hide leaks in our own code run inside parallel regions.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
cd build-asan
ctest --output-on-failure -j "$JOBS"
