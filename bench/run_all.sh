#!/usr/bin/env bash
# Runs `ipfs-accelerate bench` and the PyTorch eager peer (bench/torch_peer.py)
# on the same random-weight checkpoints, same shapes, same thread count, in one
# go, and prints a table with ratios (ours / PyTorch) and roofline fractions.
#
#   bench/run_all.sh [MODEL ...]        MODEL: gpt2-124m tinyllama-1.1b bert-base (default: all three)
# Environment:
#   IA_BIN      engine binary          (default: build/ipfs-accelerate)
#   CKPT_DIR    checkpoint directory   (default: /tmp/ia-bench-checkpoints; made when missing)
#   OUT_DIR     JSON results           (default: /tmp/ia-bench-results)
#   THREADS     threads for both       (default: 2)
#   DTYPES      checkpoint dtypes      (default: "f32 bf16 f16": one table row group per dtype;
#               the peer computes in F32 from the same half-precision file)
#   PROMPT GEN  decoder shapes         (default: 128 64, batch 1)
#   ENC_BATCH ENC_LEN  encoder shapes  (default: 8 128)
#   REPEAT      timed repetitions, fastest kept (default: 1)
#   OMP_WAIT_POLICY  for both engines (default: picked from the load average: "passive"
#               when /proc/loadavg exceeds the core count, else libgomp's default
#               spin-then-sleep). On a shared, oversubscribed machine spinning OpenMP
#               barriers cost 4-8x in decode (measured: GPT-2 decode 0.55 -> 4.2 tok/s for
#               us, 0.37 -> 0.94 for PyTorch); on an idle machine a spinning wait is the
#               fastest hand-off between the ~60 parallel regions of a decode step.
#   OMP_PROC_BIND  left unset. OMP_PROC_BIND=close OMP_PLACES=cores (one thread per core, no
#               migration) is worth trying on an idle machine, but on a busy one pinning
#               cut our decode CPU share 3x (measured 0.038 vs 0.145 of 2 cores): a pinned
#               thread waits for its own core instead of taking a free one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
IA_BIN="${IA_BIN:-$root/build/ipfs-accelerate}"
CKPT_DIR="${CKPT_DIR:-/tmp/ia-bench-checkpoints}"
OUT_DIR="${OUT_DIR:-/tmp/ia-bench-results}"
THREADS="${THREADS:-2}"
DTYPES="${DTYPES:-${DTYPE:-f32 bf16 f16}}"
PROMPT="${PROMPT:-128}"
GEN="${GEN:-64}"
ENC_BATCH="${ENC_BATCH:-8}"
ENC_LEN="${ENC_LEN:-128}"
REPEAT="${REPEAT:-1}"
PYTHON="${PYTHON:-/usr/bin/python3}"  # Debian's python3-torch lives in the system interpreter
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(gpt2-124m tinyllama-1.1b bert-base)

[ -x "$IA_BIN" ] || { echo "run_all.sh: $IA_BIN not found; build first (see README)" >&2; exit 1; }
"$PYTHON" -c "import torch" 2>/dev/null || { echo "run_all.sh: PyTorch missing: apt-get install -y python3-torch" >&2; exit 1; }
mkdir -p "$CKPT_DIR" "$OUT_DIR"
# Same thread count for our OpenMP pool, PyTorch's intra-op pool and OpenBLAS under it.
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"
if [ -z "${OMP_WAIT_POLICY:-}" ]; then
  if awk -v n="$(nproc)" '{exit !($1 > n)}' /proc/loadavg; then export OMP_WAIT_POLICY=passive; fi
fi
echo "threads=$THREADS OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-default} OMP_PROC_BIND=${OMP_PROC_BIND:-unset} dtypes=$DTYPES cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(date -u +%FT%TZ)"

bw_json="$("$IA_BIN" bench --bandwidth-only --threads "$THREADS" --json)"
bw="$("$PYTHON" -c 'import json,sys; print(round(json.loads(sys.argv[1])["bandwidth_gb_per_s"], 3))' "$bw_json")"
echo "memory read bandwidth ($THREADS threads): $bw GB/s  [load average: $(cut -d' ' -f1-3 /proc/loadavg)]"

for DTYPE in $DTYPES; do
for m in "${models[@]}"; do
  dir="$CKPT_DIR/$m-$DTYPE"
  if [ ! -f "$dir/config.json" ]; then
    echo "making $dir ..."
    "$IA_BIN" make-checkpoint --preset "$m" --dtype "$DTYPE" --out "$dir"
  fi
  case "$m" in
    bert*) shape=(--batch "$ENC_BATCH" --prompt-tokens "$ENC_LEN") ;;
    *) shape=(--batch 1 --prompt-tokens "$PROMPT" --gen-tokens "$GEN") ;;
  esac
  echo "== $m $DTYPE: ipfs-accelerate"
  # Our bench measures bandwidth itself, interleaved with its decode steps (bench/README.md);
  # the peer's roofline then uses that same figure.
  "$IA_BIN" bench "$dir" --threads "$THREADS" --repeat "$REPEAT" --json "${shape[@]}" \
    | tee "$OUT_DIR/$m-$DTYPE.ours.json"
  row_bw="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("bandwidth_gb_per_s", sys.argv[2]))' \
    "$OUT_DIR/$m-$DTYPE.ours.json" "$bw")"
  echo "== $m $DTYPE: pytorch eager"
  "$PYTHON" "$here/torch_peer.py" "$dir" --threads "$THREADS" --repeat "$REPEAT" --bandwidth-gbs "$row_bw" --json "${shape[@]}" \
    | tee "$OUT_DIR/$m-$DTYPE.torch.json"
done
done

"$PYTHON" - "$OUT_DIR" "$DTYPES" "${models[@]}" <<'PY'
import json, sys
out, dtypes, models = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
rows = []
def fmt(v, pct=False):
    if v is None: return "-"
    return f"{100 * v:.1f}%" if pct else (f"{v:.3g}" if v < 100 else f"{v:.0f}")
for dtype, m in [(d, m) for d in dtypes for m in models]:
    a = json.load(open(f"{out}/{m}-{dtype}.ours.json"))
    b = json.load(open(f"{out}/{m}-{dtype}.torch.json"))
    metrics = [("decode tok/s", "decode_tokens_per_s"), ("prefill tok/s", "prefill_tokens_per_s")] \
        if "decode_tokens_per_s" in a else [("sequences/s", "sequences_per_s"), ("tokens/s", "tokens_per_s")]
    metrics += [("load s", "load_s"), ("peak RSS MiB", "peak_rss_mb")]
    for label, k in metrics:
        x, y = a.get(k), b.get(k)
        ratio = f"{x / y:.2f}x" if x and y else "-"
        roof = ("roofline_fraction" in a and k == "decode_tokens_per_s")
        rows.append((f"{m} ({a['weights_dtype']})", label, fmt(x), fmt(y), ratio,
                     fmt(a.get("roofline_fraction"), True) if roof else "",
                     fmt(b.get("roofline_fraction"), True) if roof else ""))
head = ("model", "metric", "ours", "pytorch", "ours/pytorch", "ours % roofline", "pytorch % roofline")
w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
line = lambda r: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |"
print(line(head)); print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in rows: print(line(r))
PY
