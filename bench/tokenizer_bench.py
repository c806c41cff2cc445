#!/usr/bin/python3
"""Tokenizer throughput: ipfs-accelerate vs Hugging Face Rust `tokenizers` and transformers.js.

For every bundled tokenizer (tests/fixtures/tokenizers/*) and one generated corpus
(bench/tokenizer_corpus.py, 12 MB by default), in one run:
  ours : `ipfs-accelerate bench-tokenizer` (encode/decode single-threaded, then over --threads)
  rust : bench/node/tokenizer_peers.mjs rust, whole corpus in one encodeBatch/decodeBatch call,
         RAYON_NUM_THREADS=1 (single) and =--threads (batched)
  tfjs : bench/node/tokenizer_peers.mjs tfjs (single-threaded JavaScript)
Ratios are ours / peer (> 1 = we are faster). Results JSON goes to bench/results/.

  (cd bench/node && npm ci --ignore-scripts)   # once; onnxruntime's download script is not needed
  /usr/bin/python3 bench/tokenizer_bench.py [--mb 12] [--threads 2] [--only gpt2,t5-small] [--no-tfjs]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=12.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "ipfs-accelerate"))
    ap.add_argument("--only", default="")
    ap.add_argument("--no-tfjs", action="store_true")
    a = ap.parse_args()
    corpus = f"/tmp/ia_tokenizer_corpus_{a.mb:g}mb.json"
    if not os.path.exists(corpus):
        subprocess.run([sys.executable, os.path.join(HERE, "tokenizer_corpus.py"), corpus, "--mb", str(a.mb)], check=True)
    tok_root = os.path.join(ROOT, "tests", "fixtures", "tokenizers")
    names = sorted(d for d in os.listdir(tok_root) if os.path.isdir(os.path.join(tok_root, d)))
    if a.only:
        names = [n for n in names if n in a.only.split(",")]
    peers = os.path.join(HERE, "node", "tokenizer_peers.mjs")
    rows = []
    for name in names:
        d = os.path.join(tok_root, name)
        ours = run_json([a.cli, "bench-tokenizer", d, "--docs", corpus, "--threads", str(a.threads)])
        env1 = dict(os.environ, RAYON_NUM_THREADS="1", TOKENIZERS_PARALLELISM="true")
        envn = dict(os.environ, RAYON_NUM_THREADS=str(a.threads), TOKENIZERS_PARALLELISM="true")
        rust1 = run_json(["node", peers, "rust", d, corpus], env1)
        rustn = run_json(["node", peers, "rust", d, corpus], envn)
        tfjs = None
        if not a.no_tfjs:
            try:
                tfjs = run_json(["node", peers, "tfjs", d, corpus])
            except subprocess.CalledProcessError as e:  # transformers.js lacks some components
                print(f"note: {name}: transformers.js failed: {e.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        if rust1["tokens"] != ours["tokens"]:
            print(f"note: {name}: token counts differ (ours {ours['tokens']}, rust {rust1['tokens']})", file=sys.stderr)
        row = {"tokenizer": name, "ours": ours, "rust_1": rust1, "rust_batch": rustn, "tfjs": tfjs}
        rows.append(row)
        print(f"{name:32s} encode 1T {ours['encode_1']['mb_per_s']:7.2f} MB/s vs rust {rust1['encode']['mb_per_s']:7.2f}"
              f" (x{ours['encode_1']['mb_per_s'] / rust1['encode']['mb_per_s']:.2f}) | batched "
              f"{ours['encode_batch']['mb_per_s']:7.2f} vs {rustn['encode']['mb_per_s']:7.2f}"
              f" (x{ours['encode_batch']['mb_per_s'] / rustn['encode']['mb_per_s']:.2f})", flush=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = os.path.join(HERE, "results", f"tokenizers-{stamp}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"corpus_mb": a.mb, "threads": a.threads, "load_avg": os.getloadavg(), "rows": rows}, f, indent=1)
    print("\n| tokenizer | encode 1 thread MB/s: ours / rust / tfjs | ratio vs rust | encode batched MB/s: ours / rust"
          " | ratio | decode 1 thread Mtok/s: ours / rust / tfjs | ratio | decode batched Mtok/s: ours / rust | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        o, r1, rn, tj = r["ours"], r["rust_1"], r["rust_batch"], r["tfjs"]
        tje = f"{tj['encode']['mb_per_s']:.2f}" if tj else "-"
        tjd = f"{tj['decode']['tokens_per_s'] / 1e6:.2f}" if tj else "-"
        print(f"| {r['tokenizer']} | {o['encode_1']['mb_per_s']:.2f} / {r1['encode']['mb_per_s']:.2f} / {tje} "
              f"| {o['encode_1']['mb_per_s'] / r1['encode']['mb_per_s']:.2f} "
              f"| {o['encode_batch']['mb_per_s']:.2f} / {rn['encode']['mb_per_s']:.2f} "
              f"| {o['encode_batch']['mb_per_s'] / rn['encode']['mb_per_s']:.2f} "
              f"| {o['decode_1']['tokens_per_s'] / 1e6:.2f} / {r1['decode']['tokens_per_s'] / 1e6:.2f} / {tjd} "
              f"| {o['decode_1']['tokens_per_s'] / r1['decode']['tokens_per_s']:.2f} "
              f"| {o['decode_batch']['tokens_per_s'] / 1e6:.2f} / {rn['decode']['tokens_per_s'] / 1e6:.2f} "
              f"| {o['decode_batch']['tokens_per_s'] / rn['decode']['tokens_per_s']:.2f} |")
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
