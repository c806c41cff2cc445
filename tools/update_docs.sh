#!/bin/sh
# Regenerates the reports under docs/ by running the commands that earn them.
# Usage: tools/update_docs.sh [BUILD_DIR]   (default: build)
set -eu
cd "$(dirname "$0")/.."
B=${1:-build}/ipfs-accelerate
"$B" coverage --markdown --out docs/MODEL_COVERAGE.md
# matrix exits 1 when an implemented family has no working pipeline; the report says which.
"$B" matrix --markdown --out docs/COMPATIBILITY_MATRIX.md || echo "matrix: errors reported in docs/COMPATIBILITY_MATRIX.md"
