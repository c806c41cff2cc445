#!/usr/bin/python3
"""PyTorch eager FP32 peer of `ipfs-accelerate bench`.

Our own straightforward PyTorch implementation of GPT-2, LLaMA and BERT
(no transformers), loading the same safetensors checkpoint directory, running
the same shapes with the same timing method, and printing the same JSON fields:

  decoders: generate(prompt, 1 new token) = prefill; generate(prompt, G) adds
            G-1 KV-cache decode steps; decode tokens/s = B*(G-1) / (t_G - t_1).
  encoders: forward over [batch, seq_len]; sequences/s = batch / t.

Weights are kept as zero-copy views of a private memory map when they are F32
(F16/BF16 checkpoints are converted to F32: this is the FP32 eager peer).

  bench/torch_peer.py MODEL_DIR [--threads 2] [--prompt-tokens 128] [--gen-tokens 64]
                      [--batch B] [--repeat R] [--bandwidth-gbs X] [--json]
  bench/torch_peer.py --selftest FIXTURE_DIR   # compare with a reference.json forward case
"""
import argparse
import json
import math
import mmap
import os
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}


# ---------------------------------------------------------------- safetensors
def read_safetensors(path):
    """name -> tensor; 8-byte little-endian header length, JSON header, raw data."""
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)  # private: writable, zero-copy
    (n,) = struct.unpack("<Q", mm[:8])
    header = json.loads(bytes(mm[8:8 + n]))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = DTYPES[info["dtype"]]
        shape = info["shape"]
        begin, end = info["data_offsets"]
        count = math.prod(shape)
        if count == 0:
            t = torch.empty(shape, dtype=dt)
        else:
            t = torch.frombuffer(mm, dtype=dt, count=count, offset=base + begin).reshape(shape)
        out[name] = t
    return out


def read_checkpoint(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    weights = {}
    for fn in files:
        weights.update(read_safetensors(os.path.join(model_dir, fn)))
    return weights


def f32(t):
    return t if t.dtype == torch.float32 else t.float()


class Weights:
    """Looks tensors up under the first prefix the checkpoint uses."""

    def __init__(self, tensors, prefixes):
        self.t = tensors
        self.prefix = next((p for p in prefixes if any(k.startswith(p) for k in tensors)), "")

    def __call__(self, name):
        return f32(self.t[self.prefix + name])

    def raw(self, name):
        return self.t.get(name)


# ---------------------------------------------------------------- decoders
class KVCache:
    """Preallocated per-layer K/V buffers [B, kv_heads, max_len, head_dim]."""

    def __init__(self, layers, batch, kv_heads, max_len, head_dim):
        self.k = [torch.empty(batch, kv_heads, max_len, head_dim) for _ in range(layers)]
        self.v = [torch.empty(batch, kv_heads, max_len, head_dim) for _ in range(layers)]
        self.len = 0

    def update(self, layer, k, v):
        end = self.len + k.shape[2]
        self.k[layer][:, :, self.len:end] = k
        self.v[layer][:, :, self.len:end] = v
        return self.k[layer][:, :, :end], self.v[layer][:, :, :end]


def attend(q, k, v, causal, scale):
    """q [B,H,T,D], k/v [B,KV,S,D] with H a multiple of KV (grouped-query without copying K/V)."""
    B, H, T, D = q.shape
    KV, S = k.shape[1], k.shape[2]
    g = H // KV
    q = q.reshape(B, KV, g * T, D)
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale  # [B, KV, g*T, S]
    if causal and T > 1:
        # query t (at absolute position S-T+t) sees keys 0..S-T+t
        mask = torch.ones(T, S, dtype=torch.bool).triu(S - T + 1)
        scores = scores.view(B, KV, g, T, S).masked_fill(mask, float("-inf")).view(B, KV, g * T, S)
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(probs, v).view(B, H, T, D)


class GPT2:
    def __init__(self, cfg, tensors):
        w = Weights(tensors, ["transformer."])
        self.E = cfg["n_embd"]
        self.H = cfg["n_head"]
        self.D = self.E // self.H
        self.L = cfg["n_layer"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.max_positions = cfg.get("n_positions", 1024)
        self.wte, self.wpe = w("wte.weight"), w("wpe.weight")
        self.lm_head = f32(tensors["lm_head.weight"]) if "lm_head.weight" in tensors else self.wte
        self.layers = []
        for i in range(self.L):
            p = f"h.{i}."
            self.layers.append({k: w(p + k) for k in [
                "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                "mlp.c_proj.weight", "mlp.c_proj.bias"]})
        self.ln_f = (w("ln_f.weight"), w("ln_f.bias"))
        self.kv_heads = self.H

    def hidden(self, ids, cache):
        B, T = ids.shape
        pos = torch.arange(cache.len, cache.len + T)
        x = self.wte[ids] + self.wpe[pos]
        scale = 1.0 / math.sqrt(self.D)
        for i, l in enumerate(self.layers):
            h = F.layer_norm(x, (self.E,), l["ln_1.weight"], l["ln_1.bias"], self.eps)
            qkv = torch.addmm(l["attn.c_attn.bias"], h.view(B * T, self.E), l["attn.c_attn.weight"])
            q, k, v = qkv.view(B, T, 3, self.H, self.D).permute(2, 0, 3, 1, 4)
            k, v = cache.update(i, k, v)
            a = attend(q, k, v, True, scale).transpose(1, 2).reshape(B * T, self.E)
            x = x + torch.addmm(l["attn.c_proj.bias"], a, l["attn.c_proj.weight"]).view(B, T, self.E)
            h = F.layer_norm(x, (self.E,), l["ln_2.weight"], l["ln_2.bias"], self.eps)
            m = F.gelu(torch.addmm(l["mlp.c_fc.bias"], h.view(B * T, self.E), l["mlp.c_fc.weight"]),
                       approximate="tanh")
            x = x + torch.addmm(l["mlp.c_proj.bias"], m, l["mlp.c_proj.weight"]).view(B, T, self.E)
        cache.len += T
        return F.layer_norm(x, (self.E,), self.ln_f[0], self.ln_f[1], self.eps)

    def new_cache(self, batch, max_len):
        return KVCache(self.L, batch, self.H, max_len, self.D)


class Llama:
    def __init__(self, cfg, tensors):
        w = Weights(tensors, ["model."])
        self.E = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads") or self.H
        self.D = cfg.get("head_dim") or self.E // self.H
        self.L = cfg["num_hidden_layers"]
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.max_positions = cfg.get("max_position_embeddings", 2048)
        if cfg.get("rope_scaling"):
            raise SystemExit("torch_peer: rope_scaling is not implemented in the peer (default RoPE only)")
        theta = cfg.get("rope_theta", 10000.0)
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.D, 2, dtype=torch.int64).float() / self.D))
        self.embed = w("embed_tokens.weight")
        self.lm_head = f32(tensors["lm_head.weight"]) if "lm_head.weight" in tensors else self.embed
        names = ["input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                 "self_attn.v_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                 "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"]
        self.layers = [{k: w(f"layers.{i}.{k}") for k in names} for i in range(self.L)]
        self.norm = w("norm.weight")

    def rms(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * weight

    @staticmethod
    def rotate(x, cos, sin):
        x1, x2 = x.chunk(2, dim=-1)
        return x * cos + torch.cat((-x2, x1), dim=-1) * sin

    def hidden(self, ids, cache):
        B, T = ids.shape
        pos = torch.arange(cache.len, cache.len + T).float()
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        x = self.embed[ids]
        scale = 1.0 / math.sqrt(self.D)
        for i, l in enumerate(self.layers):
            h = self.rms(x, l["input_layernorm.weight"])
            q = F.linear(h, l["self_attn.q_proj.weight"]).view(B, T, self.H, self.D).transpose(1, 2)
            k = F.linear(h, l["self_attn.k_proj.weight"]).view(B, T, self.kv_heads, self.D).transpose(1, 2)
            v = F.linear(h, l["self_attn.v_proj.weight"]).view(B, T, self.kv_heads, self.D).transpose(1, 2)
            q, k = self.rotate(q, cos, sin), self.rotate(k, cos, sin)
            k, v = cache.update(i, k, v)
            a = attend(q, k, v, True, scale).transpose(1, 2).reshape(B, T, self.H * self.D)
            x = x + F.linear(a, l["self_attn.o_proj.weight"])
            x = x + self.mlp(l, self.rms(x, l["post_attention_layernorm.weight"]))
        cache.len += T
        return self.rms(x, self.norm)

    def mlp(self, l, h):
        """The SwiGLU feed-forward (Mixtral's peer overrides it with the routed experts)."""
        m = F.silu(F.linear(h, l["mlp.gate_proj.weight"])) * F.linear(h, l["mlp.up_proj.weight"])
        return F.linear(m, l["mlp.down_proj.weight"])

    def new_cache(self, batch, max_len):
        return KVCache(self.L, batch, self.kv_heads, max_len, self.D)


def generate(model, ids, max_new):
    """Greedy decoding with the KV cache; the head runs on the last position only."""
    B, P = ids.shape
    cache = model.new_cache(B, P + max_new)
    out = [ids]
    h = model.hidden(ids, cache)
    for step in range(max_new):
        nxt = torch.matmul(h[:, -1], model.lm_head.t()).argmax(-1, keepdim=True)
        out.append(nxt)
        if step + 1 < max_new:
            h = model.hidden(nxt, cache)
    return torch.cat(out, dim=1)


# ---------------------------------------------------------------- encoders
class BertMLM:
    def __init__(self, cfg, tensors):
        w = Weights(tensors, ["bert."])
        self.E = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.D = self.E // self.H
        self.L = cfg["num_hidden_layers"]
        self.eps = cfg.get("layer_norm_eps", 1e-12)
        self.max_positions = cfg.get("max_position_embeddings", 512)
        if cfg.get("hidden_act", "gelu") != "gelu":
            raise SystemExit("torch_peer: only hidden_act=gelu is implemented for BERT")
        self.word = w("embeddings.word_embeddings.weight")
        self.pos = w("embeddings.position_embeddings.weight")
        self.type = w("embeddings.token_type_embeddings.weight")
        self.emb_ln = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        names = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                 "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"]
        self.layers = [{n: (w(f"encoder.layer.{i}.{n}.weight"), w(f"encoder.layer.{i}.{n}.bias")) for n in names}
                       for i in range(self.L)]
        t = lambda n: f32(tensors[n]) if n in tensors else None
        self.head = None
        if "cls.predictions.transform.dense.weight" in tensors:
            self.head = {"dense": (t("cls.predictions.transform.dense.weight"), t("cls.predictions.transform.dense.bias")),
                         "ln": (t("cls.predictions.transform.LayerNorm.weight"), t("cls.predictions.transform.LayerNorm.bias")),
                         "decoder": t("cls.predictions.decoder.weight") if "cls.predictions.decoder.weight" in tensors else self.word,
                         "bias": t("cls.predictions.bias")}

    def forward(self, ids, mask, token_type_ids=None):
        B, T = ids.shape
        x = self.word[ids] + self.pos[:T] + (self.type[0] if token_type_ids is None else self.type[token_type_ids])
        x = F.layer_norm(x, (self.E,), *self.emb_ln, self.eps)
        add_mask = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        scale = 1.0 / math.sqrt(self.D)
        for l in self.layers:
            heads = lambda t: t.view(B, T, self.H, self.D).transpose(1, 2)
            q = heads(F.linear(x, *l["attention.self.query"]))
            k = heads(F.linear(x, *l["attention.self.key"]))
            v = heads(F.linear(x, *l["attention.self.value"]))
            p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * scale + add_mask, dim=-1)
            a = torch.matmul(p, v).transpose(1, 2).reshape(B, T, self.E)
            x = F.layer_norm(F.linear(a, *l["attention.output.dense"]) + x, (self.E,), *l["attention.output.LayerNorm"], self.eps)
            m = F.gelu(F.linear(x, *l["intermediate.dense"]))
            x = F.layer_norm(F.linear(m, *l["output.dense"]) + x, (self.E,), *l["output.LayerNorm"], self.eps)
        out = {"last_hidden_state": x}
        if self.head is not None:
            h = F.gelu(F.linear(x, *self.head["dense"]))
            h = F.layer_norm(h, (self.E,), *self.head["ln"], self.eps)
            out["logits"] = torch.matmul(h, self.head["decoder"].t()) + self.head["bias"]
        return out


MODELS = {"gpt2": ("decoder-only", GPT2), "llama": ("decoder-only", Llama), "bert": ("encoder-only", BertMLM)}


# ---------------------------------------------------------------- measurement
def weight_bytes_per_token(tensors):
    """Bytes a decode step streams: all tensors but lookup-only embedding tables (a tied one is the head)."""
    lookups = ("wte.weight", "wpe.weight", "embed_tokens.weight", "embed_positions.weight", "word_embeddings.weight",
               "position_embeddings.weight", "token_type_embeddings.weight", "embed_in.weight")
    token_tables = ("wte.weight", "embed_tokens.weight", "word_embeddings.weight", "embed_in.weight")
    has_head = any(n.endswith(("lm_head.weight", "embed_out.weight")) for n in tensors)
    total = 0
    for n, t in tensors.items():
        if not n.endswith(lookups) or (not has_head and n.endswith(token_tables)):
            total += t.numel() * t.element_size()
    return total


def torch_bandwidth(threads):
    """Fallback read-bandwidth probe (the C++ probe is preferred: run_all.sh passes its figure)."""
    x = torch.ones(128 << 20, dtype=torch.int32)  # 512 MiB
    best = 1e30
    for _ in range(5):
        t0 = time.perf_counter()
        x.sum()
        best = min(best, time.perf_counter() - t0)
    return x.numel() * 4 / best


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def timed(fn):
    """(wall seconds, result); the CPU seconds of the call (all threads) go to timed.cpu."""
    c0, t0 = time.process_time(), time.perf_counter()
    r = fn()
    timed.cpu = time.process_time() - c0
    return time.perf_counter() - t0, r


def bench(args):
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    with open(os.path.join(args.model_dir, "config.json")) as f:
        cfg = json.load(f)
    mt = cfg.get("model_type")
    if mt not in MODELS:
        raise SystemExit(f"torch_peer: model_type {mt!r} not implemented (have: {', '.join(MODELS)})")
    family, cls = MODELS[mt]
    tensors = read_checkpoint(args.model_dir)
    model = cls(cfg, tensors)
    load_s = time.perf_counter() - t0
    params = sum(t.numel() for t in tensors.values())
    by_dtype = {}
    for t in tensors.values():
        by_dtype[t.dtype] = by_dtype.get(t.dtype, 0) + t.numel()
    dname = {v: k for k, v in DTYPES.items()}[max(by_dtype, key=by_dtype.get)]
    B = args.batch or (1 if family == "decoder-only" else 8)
    P, G = args.prompt_tokens, args.gen_tokens
    gen = torch.Generator().manual_seed(args.seed)
    ids = torch.randint(0, cfg["vocab_size"], (B, P), generator=gen)
    r = {"engine": "pytorch-eager", "torch_version": torch.__version__, "model_dir": args.model_dir,
         "model_type": mt, "architecture": (cfg.get("architectures") or [""])[0], "family": family,
         "weights_dtype": dname, "parameters": params,
         "weight_bytes": sum(t.numel() * t.element_size() for t in tensors.values()),
         "threads": torch.get_num_threads(), "batch": B, "load_s": round(load_s, 4)}
    with torch.inference_mode():
        if family == "encoder-only":
            mask = torch.ones(B, P, dtype=torch.int64)
            r["seq_len"] = P
            r["warmup_s"] = round(timed(lambda: model.forward(ids, mask))[0], 4)
            best, best_cpu = 1e30, 0.0
            for _ in range(max(args.repeat, 3)):
                t = timed(lambda: model.forward(ids, mask))[0]
                if t < best:
                    best, best_cpu = t, timed.cpu
            r["cpu_utilisation"] = round(best_cpu / (best * torch.get_num_threads()), 3)
            r["forward_s"] = round(best, 5)
            r["sequences_per_s"] = round(B / best, 3)
            r["tokens_per_s"] = round(B * P / best, 2)
        else:
            if P + G > model.max_positions:
                raise SystemExit(f"torch_peer: {P + G} positions requested but the config allows {model.max_positions}")
            r["prompt_tokens"], r["gen_tokens"] = P, G
            r["warmup_s"] = round(timed(lambda: generate(model, ids[:, :min(P, 8)], 2))[0], 4)
            t1 = tg = 1e30
            c1 = cg = 0.0
            for _ in range(args.repeat):
                dt, _ = timed(lambda: generate(model, ids, 1))
                if dt < t1:
                    t1, c1 = dt, timed.cpu
                dt, seq = timed(lambda: generate(model, ids, G))
                assert seq.shape == (B, P + G)
                if dt < tg:
                    tg, cg = dt, timed.cpu
            decode_s = max(tg - t1, 1e-9)
            n = torch.get_num_threads()
            r["prefill_cpu_utilisation"] = round(c1 / (t1 * n), 3)
            r["decode_cpu_utilisation"] = round(max(cg - c1, 0.0) / (decode_s * n), 3)
            tps = B * (G - 1) / decode_s
            r.update({"prefill_s": round(t1, 5), "prefill_tokens_per_s": round(B * P / t1, 2),
                      "generate_s": round(tg, 5), "decode_s": round(decode_s, 5),
                      "decode_tokens_per_s": round(tps, 3), "decode_ms_per_token": round(1000 * decode_s / (G - 1), 3),
                      "weight_bytes_per_token": weight_bytes_per_token(tensors)})
            # The peer computes in F32: a BF16/F16 checkpoint is streamed as F32 after conversion.
            streamed = r["weight_bytes_per_token"] * (4 // max(1, min(t.element_size() for t in tensors.values()
                                                                       if t.is_floating_point())))
            # Plus each row's F32 keys and values of every layer, at the mean cache length of
            # the timed steps (as `ipfs-accelerate bench` counts them).
            kv = B * model.L * 2 * model.kv_heads * model.D * 4 * (P + (G + 2) // 2)
            r["kv_cache_bytes_per_step"] = kv
            bw = args.bandwidth_gbs * 1e9 if args.bandwidth_gbs else torch_bandwidth(args.threads)
            roof = B * bw / (streamed + kv)
            r.update({"bandwidth_gb_per_s": round(bw / 1e9, 3), "roofline_tokens_per_s": round(roof, 3),
                      "roofline_fraction": round(tps / roof, 4)})
    r["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return r


def selftest(fixture_dir):
    """Checks the peer against a transformers reference.json forward case (rows without padding)."""
    with open(os.path.join(fixture_dir, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(fixture_dir, "reference.json")) as f:
        ref = json.load(f)
    family, cls = MODELS[cfg["model_type"]]
    model = cls(cfg, read_checkpoint(fixture_dir))
    refs = read_safetensors(os.path.join(fixture_dir, "reference.safetensors"))
    case = next(c for c in ref["cases"] if c["name"] == "forward")
    ids = torch.tensor(case["inputs"]["input_ids"]["values"])
    mask = torch.tensor(case["inputs"]["attention_mask"]["values"]) if "attention_mask" in case["inputs"] else torch.ones_like(ids)
    types = torch.tensor(case["inputs"]["token_type_ids"]["values"]) if "token_type_ids" in case["inputs"] else None
    # Encoders honour the padding mask; the decoder peer only runs unpadded rows.
    rows = [b for b in range(ids.shape[0]) if family == "encoder-only" or bool(mask[b].all())]
    with torch.inference_mode():
        if family == "encoder-only":
            out = model.forward(ids, mask, types)
        else:
            cache = model.new_cache(len(rows), ids.shape[1])
            h = model.hidden(ids[rows], cache)
            out = {"last_hidden_state": h, "logits": torch.matmul(h, model.lm_head.t())}
    worst = 0.0
    for name, spec in case["outputs"].items():
        if name not in out:
            continue
        err = (out[name] - refs[spec["tensor"]][rows]).abs().max().item()
        worst = max(worst, err)
        print(f"{fixture_dir} {name} max_abs_err={err:.3g}")
    # The KV-cache decode loop must reproduce greedy generate() token for token.
    gcase = next((c for c in ref["cases"] if c["name"] == "generate"), None)
    if gcase is not None and family == "decoder-only" and gcase.get("generation", {}).get("eos_stops") is False:
        gids = torch.tensor(gcase["inputs"]["input_ids"]["values"])
        want = gcase["outputs"]["sequences"]["values"]
        with torch.inference_mode():
            got = generate(model, gids, gcase["generation"]["max_new_tokens"]).tolist()
        print(f"{fixture_dir} generate sequences {'match' if got == want else 'DIFFER'}")
        if got != want:
            worst = float("inf")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--bandwidth-gbs", type=float, default=0.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--selftest", metavar="FIXTURE_DIR", nargs="+")
    args = ap.parse_args()
    if args.selftest:
        worst = max(selftest(d) for d in args.selftest)
        print(f"selftest max_abs_err={worst:.3g}")
        return 0 if worst < 1e-3 else 1
    if not args.model_dir:
        ap.error("MODEL_DIR is required")
    if args.gen_tokens < 2:
        ap.error("--gen-tokens must be >= 2")
    r = bench(args)
    if args.json:
        print(json.dumps(r))
    else:
        for k, v in r.items():
            print(f"{k:24s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
