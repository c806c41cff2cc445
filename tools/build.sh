#!/usr/bin/env bash
# Configures and builds the Release tree in build/ (idempotent; ccache makes rebuilds cheap).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DIA_BUILD_TESTS=ON >/dev/null
cmake --build build -j "$JOBS"
