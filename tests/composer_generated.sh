#!/bin/sh
# End-to-end test of `ipfs-accelerate generate --all` (CTest composer_generated):
#   1. install the library to a temporary prefix (cmake --install),
#   2. generate one program per supported model type,
#   3. configure + build the generated tree against the installed package (-j2),
#   4. run every program with no arguments (its self-test must pass),
#   5. replay each self-test input through `ipfs-accelerate run --json` and through the
#      program's handler: the result JSON must be identical (timing figures aside).
# Usage: composer_generated.sh CLI BUILD_DIR WORK_DIR
set -eu
CLI=$1
BUILD=$2
WORK=$3
rm -rf "$WORK"
mkdir -p "$WORK"
cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log"
"$CLI" generate --all --out "$WORK/gen"
cmake -S "$WORK/gen" -B "$WORK/gen/build" -DCMAKE_PREFIX_PATH="$WORK/prefix" > "$WORK/configure.log"
cmake --build "$WORK/gen/build" -j2 > "$WORK/build.log" 2>&1 || { tail -50 "$WORK/build.log"; exit 1; }

# Timing figures differ run to run; everything else must match.
strip_timing() { grep -vE '(tokens_per_second|_seconds)"' "$1"; }

programs=0
failures=0
for exe in "$WORK"/gen/build/hf_*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  programs=$((programs + 1))
  if ! "$exe" > "$WORK/$name.selftest" 2>&1; then
    echo "FAIL $name self-test:"; cat "$WORK/$name.selftest"; failures=$((failures + 1)); continue
  fi
  grep -E '^(PASS|SELF-TEST)' "$WORK/$name.selftest"
  "$exe" --self-test-plan > "$WORK/$name.plan"
  model=$(awk -F '\t' '$1 == "model" { print $2 }' "$WORK/$name.plan")
  n=0
  tab=$(printf '\t')
  # handler<TAB>task<TAB>request JSON<TAB>the same request as `run` arguments (tab-separated)
  awk -F '\t' '$1 == "handler"' "$WORK/$name.plan" | while IFS= read -r line; do
    n=$((n + 1))
    task=$(printf '%s\n' "$line" | cut -f2)
    request=$(printf '%s\n' "$line" | cut -f3)
    args=$(printf '%s\n' "$line" | cut -f4-)
    "$exe" --task "$task" --request "$request" > "$WORK/$name.$n.generated.json" 2>/dev/null || true
    old_ifs=$IFS; IFS=$tab; set -f
    # shellcheck disable=SC2086  # split on tabs only: arguments may hold spaces
    "$CLI" run "$model" $args --json > "$WORK/$name.$n.run.json" 2>/dev/null || true
    set +f; IFS=$old_ifs
    strip_timing "$WORK/$name.$n.run.json" > "$WORK/$name.$n.run.stripped"
    strip_timing "$WORK/$name.$n.generated.json" > "$WORK/$name.$n.generated.stripped"
    if ! cmp -s "$WORK/$name.$n.run.stripped" "$WORK/$name.$n.generated.stripped" || [ ! -s "$WORK/$name.$n.run.stripped" ]; then
      echo "FAIL $name $task: generated output differs from run's"
      diff "$WORK/$name.$n.run.stripped" "$WORK/$name.$n.generated.stripped" | head -20
      echo x >> "$WORK/equality_failures"
    else
      echo "SAME $name $task: generated handler output equals ipfs-accelerate run --json"
    fi
  done
done
[ -f "$WORK/equality_failures" ] && failures=$((failures + $(wc -l < "$WORK/equality_failures")))
expected=$(grep -c '"generated": true' "$WORK/gen/generate_summary.json")
echo "generated programs: $expected, built and run: $programs, failures: $failures"
[ "$programs" -gt 0 ] && [ "$programs" -eq "$expected" ] && [ "$failures" -eq 0 ]
