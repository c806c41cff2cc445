#!/usr/bin/python3
"""PyTorch eager FP32 peer of `ipfs-accelerate bench` for Whisper checkpoints.

Our own straightforward PyTorch implementation of WhisperForConditionalGeneration
(no transformers): conv1/conv2 + GELU, stored positions, pre-norm encoder layers,
decoder with a preallocated self-attention KV cache and cross-attention K/V
projected once, tied proj_out. Same checkpoint, same timing method as `bench`:
one warm-up, then the fastest of max(repeat, 3) transcriptions of one 30 s window
(encoder + greedy decoding of --gen-tokens tokens, EOS ignored);
real-time factor = seconds / 30.

  bench/torch_speech_peer.py MODEL_DIR [--threads 2] [--gen-tokens 32] [--repeat R] [--json]
  bench/torch_speech_peer.py --selftest FIXTURE_DIR   # compare with the reference.json forward case
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_peer import KVCache, Weights, attend, peak_rss_mb, read_checkpoint, read_safetensors, timed  # noqa: E402

ACT = {"gelu": F.gelu, "gelu_new": lambda x: F.gelu(x, approximate="tanh"), "relu": F.relu}


class Whisper:
    def __init__(self, cfg, tensors):
        w = Weights(tensors, ["model."])
        self.cfg = cfg
        self.d = cfg.get("d_model", 384)
        self.eh = cfg.get("encoder_attention_heads", 6)
        self.dh = cfg.get("decoder_attention_heads", 6)
        self.act = ACT[cfg.get("activation_function", "gelu")]
        self.w = w
        self.conv1 = (w("encoder.conv1.weight"), w("encoder.conv1.bias"))
        self.conv2 = (w("encoder.conv2.weight"), w("encoder.conv2.bias"))
        self.enc_pos = w("encoder.embed_positions.weight")

        def attn(p, k_bias=False):
            return {n: (w(f"{p}.{n}.weight"), w(f"{p}.{n}.bias") if n != "k_proj" else None)
                    for n in ("q_proj", "k_proj", "v_proj", "out_proj")}

        def norm(p):
            return (w(p + ".weight"), w(p + ".bias"))

        def layer(p, cross):
            L = {"sa": attn(p + ".self_attn"), "sa_ln": norm(p + ".self_attn_layer_norm"),
                 "fc1": (w(p + ".fc1.weight"), w(p + ".fc1.bias")), "fc2": (w(p + ".fc2.weight"), w(p + ".fc2.bias")),
                 "ff_ln": norm(p + ".final_layer_norm")}
            if cross:
                L["ca"] = attn(p + ".encoder_attn")
                L["ca_ln"] = norm(p + ".encoder_attn_layer_norm")
            return L

        self.enc = [layer(f"encoder.layers.{i}", False) for i in range(cfg.get("encoder_layers", 4))]
        self.dec = [layer(f"decoder.layers.{i}", True) for i in range(cfg.get("decoder_layers", 4))]
        self.enc_ln = norm("encoder.layer_norm")
        self.dec_ln = norm("decoder.layer_norm")
        self.embed = w("decoder.embed_tokens.weight")
        self.dec_pos = w("decoder.embed_positions.weight")
        self.head = self.embed if "proj_out.weight" not in tensors else w.raw("proj_out.weight").float()

    def ln(self, x, p):
        return F.layer_norm(x, (self.d,), p[0], p[1], 1e-5)

    def heads(self, x, h):
        B, T, _ = x.shape
        return x.view(B, T, h, -1).transpose(1, 2)

    def self_attention(self, a, x, h, causal, cache=None, layer=0):
        q = self.heads(F.linear(x, *a["q_proj"]), h)
        k = self.heads(F.linear(x, *a["k_proj"]), h)
        v = self.heads(F.linear(x, *a["v_proj"]), h)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        o = attend(q, k, v, causal, q.shape[-1] ** -0.5)
        B, _, T, _ = o.shape
        return F.linear(o.transpose(1, 2).reshape(B, T, -1), *a["out_proj"])

    def encode(self, feats):
        x = F.gelu(F.conv1d(feats, *self.conv1, padding=1))
        x = F.gelu(F.conv1d(x, *self.conv2, stride=2, padding=1)).transpose(1, 2) + self.enc_pos
        for L in self.enc:
            x = x + self.self_attention(L["sa"], self.ln(x, L["sa_ln"]), self.eh, False)
            x = x + F.linear(self.act(F.linear(self.ln(x, L["ff_ln"]), *L["fc1"])), *L["fc2"])
        return self.ln(x, self.enc_ln)

    def start(self, enc, max_len):
        B = enc.shape[0]
        self.cache = KVCache(len(self.dec), B, self.dh, max_len, self.d // self.dh)
        self.cross = [(self.heads(F.linear(enc, *L["ca"]["k_proj"]), self.dh),
                       self.heads(F.linear(enc, *L["ca"]["v_proj"]), self.dh)) for L in self.dec]

    def decode(self, ids):
        B, T = ids.shape
        past = self.cache.len
        x = F.embedding(ids, self.embed) + self.dec_pos[past:past + T]
        for i, L in enumerate(self.dec):
            x = x + self.self_attention(L["sa"], self.ln(x, L["sa_ln"]), self.dh, True, self.cache, i)
            h = self.ln(x, L["ca_ln"])
            q = self.heads(F.linear(h, *L["ca"]["q_proj"]), self.dh)
            o = attend(q, *self.cross[i], False, q.shape[-1] ** -0.5)
            x = x + F.linear(o.transpose(1, 2).reshape(B, T, -1), *L["ca"]["out_proj"])
            x = x + F.linear(self.act(F.linear(self.ln(x, L["ff_ln"]), *L["fc1"])), *L["fc2"])
        self.cache.len += T
        return F.linear(self.ln(x, self.dec_ln), self.head)

    def transcribe(self, feats, prompt, new_tokens, begin_suppress):
        enc = self.encode(feats)
        self.start(enc, len(prompt) + new_tokens)
        ids = torch.tensor([prompt])
        logits = self.decode(ids)[:, -1]
        out = []
        for step in range(new_tokens):
            if step == 0 and begin_suppress:
                logits[:, begin_suppress] = float("-inf")
            nxt = logits.argmax(-1, keepdim=True)
            out.append(int(nxt))
            if step + 1 < new_tokens:
                logits = self.decode(nxt)[:, -1]
        return out


def load(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "whisper":
        sys.exit(f"torch_speech_peer: {model_dir}: model_type {cfg.get('model_type')!r} is not whisper")
    gen = {}
    if os.path.exists(os.path.join(model_dir, "generation_config.json")):
        with open(os.path.join(model_dir, "generation_config.json")) as f:
            gen = json.load(f)
    return cfg, gen, Whisper(cfg, read_checkpoint(model_dir))


def bench(args):
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    cfg, gen, model = load(args.model_dir)
    load_s = time.perf_counter() - t0
    mel, frames = cfg.get("num_mel_bins", 80), 2 * cfg.get("max_source_positions", 1500)
    g = torch.Generator().manual_seed(args.seed)
    feats = torch.rand(1, mel, frames, generator=g) * 2 - 1
    prompt = [gen.get("decoder_start_token_id", cfg.get("decoder_start_token_id", 50257))]
    if "no_timestamps_token_id" in gen:
        prompt.append(gen["no_timestamps_token_id"])
    suppress = gen.get("begin_suppress_tokens", cfg.get("begin_suppress_tokens")) or []
    run = lambda: model.transcribe(feats, prompt, args.gen_tokens, suppress)  # noqa: E731
    r = {"engine": "pytorch-eager", "torch_version": torch.__version__, "model_dir": args.model_dir,
         "model_type": "whisper", "threads": torch.get_num_threads(), "audio_s": frames * 0.01,
         "gen_tokens": args.gen_tokens, "load_s": round(load_s, 4)}
    with torch.inference_mode():
        r["warmup_s"] = round(timed(run)[0], 4)
        best, best_cpu, best_enc = 1e30, 0.0, 1e30
        for _ in range(max(args.repeat, 3)):
            best_enc = min(best_enc, timed(lambda: model.encode(feats))[0])
            t, _ = timed(run)
            if t < best:
                best, best_cpu = t, timed.cpu
    r["cpu_utilisation"] = round(best_cpu / (best * r["threads"]), 3)
    r["encoder_s"] = round(best_enc, 5)
    r["transcribe_s"] = round(best, 5)
    r["decode_tokens_per_s"] = round(args.gen_tokens / max(best - best_enc, 1e-9), 2)
    r["real_time_factor"] = round(best / r["audio_s"], 5)
    r["peak_rss_mb"] = round(peak_rss_mb(), 1)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"real-time factor {r['real_time_factor']} ({r['transcribe_s']} s for {r['audio_s']} s, "
              f"{r['threads']} threads)")


def selftest(fixture_dir):
    _, _, model = load(fixture_dir)
    with open(os.path.join(fixture_dir, "reference.json")) as f:
        ref = json.load(f)
    rt = read_safetensors(os.path.join(fixture_dir, "reference.safetensors"))
    worst = 0.0
    for case in ref["cases"]:
        if case["name"] != "forward":
            continue
        feats = rt[case["inputs"]["input_features"]["tensor"]].clone()
        ids = rt[case["inputs"]["decoder_input_ids"]["tensor"]].clone()
        with torch.inference_mode():
            enc = model.encode(feats)
            model.start(enc, ids.shape[1])
            logits = model.decode(ids)
        worst = max(worst, (logits - rt[case["outputs"]["logits"]["tensor"]]).abs().max().item())
    print(f"{fixture_dir}: max abs error {worst:.3g}")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gen-tokens", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--selftest", metavar="FIXTURE_DIR", nargs="+")
    args = ap.parse_args()
    if args.selftest:
        sys.exit(0 if max(selftest(d) for d in args.selftest) < 1e-3 else 1)
    if not args.model_dir:
        ap.error("MODEL_DIR is required")
    bench(args)


if __name__ == "__main__":
    main()
