#!/usr/bin/env bash
# The whole test suite: Release build + ctest, then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer (tools/sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
./tools/build.sh
(cd build && ctest --output-on-failure -j "${JOBS:-$(nproc)}")
if [ -x tools/sanitize.sh ] && [ "${IA_SKIP_SANITIZE:-0}" != "1" ]; then
  ./tools/sanitize.sh
fi
