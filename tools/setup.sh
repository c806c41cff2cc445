#!/usr/bin/env bash
# One command from a fresh machine: install dependencies, build, and run the main
# job on the built-in default — `verify` over every bundled reference fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/deps.sh
./tools/build.sh
echo
echo "== ipfs-accelerate verify (bundled fixtures: tests/fixtures) =="
./build/ipfs-accelerate verify
