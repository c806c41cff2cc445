#!/usr/bin/env bash
# Mixture-of-experts and state-space benchmarks (issue 5): ipfs-accelerate
# `bench` and the PyTorch eager peer (bench/torch_peer_moe_ssm.py) on the same
# random-weight checkpoints, shapes and thread count, in one run.
#
#   mixtral-1b  decode + prefill with top-k = 1, 2 (the config) and 8 (every
#               expert): decode cost should follow the active parameters
#   mamba-130m, rwkv-169m  decode and long prefill (LONG tokens)
#
#   bench/run_moe_ssm.sh            env: IA_BIN CKPT_DIR OUT_DIR THREADS PROMPT GEN LONG SKIP_TORCH=1
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
IA_BIN="${IA_BIN:-$root/build/ipfs-accelerate}"
CKPT_DIR="${CKPT_DIR:-/tmp/ia-bench-checkpoints}"
OUT_DIR="${OUT_DIR:-/tmp/ia-bench-results}"
THREADS="${THREADS:-2}"
PROMPT="${PROMPT:-64}"
GEN="${GEN:-32}"
LONG="${LONG:-1024}"
PYTHON="${PYTHON:-/usr/bin/python3}"
mkdir -p "$CKPT_DIR" "$OUT_DIR"
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
echo "threads=$THREADS $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
bw="$("$IA_BIN" bench --bandwidth-only --threads "$THREADS" --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["bandwidth_gb_per_s"])')"
echo "bandwidth $bw GB/s"

make() {  # preset -> dir
  local d="$CKPT_DIR/$1-f32"
  [ -f "$d/config.json" ] || "$IA_BIN" make-checkpoint --preset "$1" --out "$d" >&2
  echo "$d"
}
run() {  # name dir prompt gen
  local name=$1 dir=$2 p=$3 g=$4
  "$IA_BIN" bench "$dir" --threads "$THREADS" --bandwidth-gbs "$bw" --prompt-tokens "$p" --gen-tokens "$g" --json \
    > "$OUT_DIR/$name.ours.json"
  if [ -z "${SKIP_TORCH:-}" ]; then
    "$PYTHON" "$here/torch_peer_moe_ssm.py" "$dir" --threads "$THREADS" --bandwidth-gbs "$bw" \
      --prompt-tokens "$p" --gen-tokens "$g" --json > "$OUT_DIR/$name.torch.json"
  fi
  echo "done $name"
}

mix=$(make mixtral-1b)
for k in 1 2 8; do  # same weights, num_experts_per_tok overridden in a copy of config.json
  d="$CKPT_DIR/mixtral-1b-top$k"
  mkdir -p "$d"
  ln -sf "$mix"/*.safetensors* "$d/"
  "$PYTHON" -c 'import json,sys; c=json.load(open(sys.argv[1])); c["num_experts_per_tok"]=int(sys.argv[3]); json.dump(c,open(sys.argv[2],"w"))' \
    "$mix/config.json" "$d/config.json" "$k"
  run "mixtral-1b-top$k" "$d" "$PROMPT" "$GEN"
done
for m in mamba-130m rwkv-169m; do
  d=$(make $m)
  run "$m" "$d" "$PROMPT" "$GEN"
  run "$m-long" "$d" "$LONG" 2
done

"$PYTHON" - "$OUT_DIR" <<'PY'
import json, os, sys
out = sys.argv[1]
names = ["mixtral-1b-top1", "mixtral-1b-top2", "mixtral-1b-top8", "mamba-130m", "mamba-130m-long", "rwkv-169m", "rwkv-169m-long"]
print("| run | active params | decode tok/s ours | torch | ratio | prefill tok/s ours | torch | ratio | ours % roofline |")
print("|---|---|---|---|---|---|---|---|---|")
for n in names:
    try:
        a = json.load(open(f"{out}/{n}.ours.json"))
    except FileNotFoundError:
        continue
    b = json.load(open(f"{out}/{n}.torch.json")) if os.path.exists(f"{out}/{n}.torch.json") else {}
    r = lambda k: f"{a[k] / b[k]:.2f}x" if b.get(k) else "-"
    long = n.endswith("-long")
    roof = "" if long else f"{100 * a.get('roofline_fraction', 0):.1f}%"
    print(f"| {n} (P={a['prompt_tokens']}) | {a.get('active_parameters', a['parameters']) / 1e6:.0f}M of {a['parameters'] / 1e6:.0f}M"
          f" | {'' if long else a['decode_tokens_per_s']} | {'' if long else b.get('decode_tokens_per_s', '-')} | {'' if long else r('decode_tokens_per_s')}"
          f" | {a['prefill_tokens_per_s']} | {b.get('prefill_tokens_per_s', '-')} | {r('prefill_tokens_per_s')}"
          f" | {roof} |")
PY
