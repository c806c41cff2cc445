#!/usr/bin/python3
"""PyTorch eager FP32 peer of `ipfs-accelerate bench` for ViT checkpoints.

Our own straightforward PyTorch implementation of ViTModel /
ViTForImageClassification (no transformers): patch conv, [CLS] + positions,
pre-norm encoder layers (fused F.linear calls, matmul attention), final norm,
classifier on [CLS]. Same checkpoint, same batch of random pixels, same timing
method as `bench`: one warm-up forward, then the fastest of max(repeat, 3)
forwards; images/s = batch / t.

  bench/torch_vision_peer.py MODEL_DIR [--threads 2] [--batch 8] [--repeat R] [--json]
  bench/torch_vision_peer.py --selftest FIXTURE_DIR   # compare with a reference.json forward case
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_peer import Weights, peak_rss_mb, read_checkpoint, read_safetensors, timed  # noqa: E402

ACT = {"gelu": F.gelu, "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
       "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x), "relu": F.relu}


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class ViT:
    def __init__(self, cfg, tensors):
        w = Weights(tensors, ["vit."])
        self.H = cfg.get("hidden_size", 768)
        self.heads = cfg.get("num_attention_heads", 12)
        self.eps = cfg.get("layer_norm_eps", 1e-12)
        self.act = ACT[cfg.get("hidden_act", "gelu")]
        self.patch = pair(cfg.get("patch_size", 16))
        self.image = pair(cfg.get("image_size", 224))
        self.conv_w = w("embeddings.patch_embeddings.projection.weight")
        self.conv_b = w("embeddings.patch_embeddings.projection.bias")
        self.cls = w("embeddings.cls_token").reshape(1, 1, self.H)
        self.pos = w("embeddings.position_embeddings").reshape(1, -1, self.H)
        self.layers = []
        for i in range(cfg.get("num_hidden_layers", 12)):
            p = f"encoder.layer.{i}."
            a = p + "attention.attention."
            qkv_w = torch.cat([w(a + n + ".weight") for n in ("query", "key", "value")])
            has_bias = (w.prefix + a + "query.bias") in tensors
            qkv_b = torch.cat([w(a + n + ".bias") for n in ("query", "key", "value")]) if has_bias else None
            self.layers.append(dict(
                ln1=(w(p + "layernorm_before.weight"), w(p + "layernorm_before.bias")), qkv=(qkv_w, qkv_b),
                o=(w(p + "attention.output.dense.weight"), w(p + "attention.output.dense.bias")),
                ln2=(w(p + "layernorm_after.weight"), w(p + "layernorm_after.bias")),
                fc1=(w(p + "intermediate.dense.weight"), w(p + "intermediate.dense.bias")),
                fc2=(w(p + "output.dense.weight"), w(p + "output.dense.bias"))))
        self.ln = (w("layernorm.weight"), w("layernorm.bias"))
        self.classifier = None
        if "classifier.weight" in tensors:
            self.classifier = (tensors["classifier.weight"].float(), tensors["classifier.bias"].float())

    def forward(self, px):
        B = px.shape[0]
        x = F.conv2d(px, self.conv_w, self.conv_b, stride=self.patch).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(B, -1, -1), x], dim=1) + self.pos
        T, H, nh = x.shape[1], self.H, self.heads
        D = H // nh
        for L in self.layers:
            h = F.layer_norm(x, (H,), *L["ln1"], eps=self.eps)
            qkv = F.linear(h, *L["qkv"]).view(B, T, 3, nh, D).permute(2, 0, 3, 1, 4)
            probs = torch.softmax(torch.matmul(qkv[0], qkv[1].transpose(-1, -2)) / D ** 0.5, dim=-1)
            att = torch.matmul(probs, qkv[2]).transpose(1, 2).reshape(B, T, H)
            x = x + F.linear(att, *L["o"])
            h = F.layer_norm(x, (H,), *L["ln2"], eps=self.eps)
            x = x + F.linear(self.act(F.linear(h, *L["fc1"])), *L["fc2"])
        x = F.layer_norm(x, (H,), *self.ln, eps=self.eps)
        out = {"last_hidden_state": x}
        if self.classifier is not None:
            out["logits"] = F.linear(x[:, 0], *self.classifier)
        return out


def load(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "vit":
        sys.exit(f"torch_vision_peer: {model_dir}: model_type {cfg.get('model_type')!r} is not vit")
    return cfg, ViT(cfg, read_checkpoint(model_dir))


def bench(args):
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    cfg, model = load(args.model_dir)
    load_s = time.perf_counter() - t0
    h, w = model.image
    B = args.batch or 8
    g = torch.Generator().manual_seed(args.seed)
    px = torch.rand(B, cfg.get("num_channels", 3), h, w, generator=g) * 2 - 1
    r = {"engine": "pytorch-eager", "torch_version": torch.__version__, "model_dir": args.model_dir,
         "model_type": "vit", "threads": torch.get_num_threads(), "batch": B, "image_size": [h, w],
         "load_s": round(load_s, 4)}
    with torch.inference_mode():
        r["warmup_s"] = round(timed(lambda: model.forward(px))[0], 4)
        best, best_cpu = 1e30, 0.0
        for _ in range(max(args.repeat, 3)):
            t, _ = timed(lambda: model.forward(px))
            if t < best:
                best, best_cpu = t, timed.cpu
    r["cpu_utilisation"] = round(best_cpu / (best * r["threads"]), 3)
    r["forward_s"] = round(best, 5)
    r["images_per_s"] = round(B / best, 3)
    r["peak_rss_mb"] = round(peak_rss_mb(), 1)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"{r['images_per_s']} images/s ({B} images in {r['forward_s']} s, {r['threads']} threads)")


def selftest(fixture_dir):
    _, model = load(fixture_dir)
    with open(os.path.join(fixture_dir, "reference.json")) as f:
        ref = json.load(f)
    rt = read_safetensors(os.path.join(fixture_dir, "reference.safetensors"))
    worst = 0.0
    for case in ref["cases"]:
        px = rt[case["inputs"]["pixel_values"]["tensor"]].clone()
        with torch.inference_mode():
            out = model.forward(px)
        for k, v in case["outputs"].items():
            if k in out:
                worst = max(worst, (out[k] - rt[v["tensor"]]).abs().max().item())
    print(f"{fixture_dir}: max abs error {worst:.3g}")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--selftest", metavar="FIXTURE_DIR", nargs="+")
    args = ap.parse_args()
    if args.selftest:
        sys.exit(1 if max(selftest(d) for d in args.selftest) > 1e-4 else 0)
    if not args.model_dir:
        ap.error("MODEL_DIR is required")
    bench(args)


if __name__ == "__main__":
    main()
