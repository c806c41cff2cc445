#!/usr/bin/python3
"""PyTorch eager FP32 peer of `ipfs-accelerate bench UNET_DIR` (diffusers UNet2DConditionModel).

Runs diffusers 0.30.3's own UNet2DConditionModel (its PyTorch eager forward; torch 1.13 has no
scaled_dot_product_attention, so diffusers uses its classic AttnProcessor) on the same
directory and input shapes the engine's runner uses, timed the same way (warm-up, then the
fastest of --repeat steps), and prints the same JSON fields.

  bench/torch_unet_peer.py --make DIR [--preset sd15|sd21|tiny] [--sample-size 64]
        writes an SD-shaped UNet with random weights (config.json + diffusion_pytorch_model.safetensors)
  bench/torch_unet_peer.py DIR [--threads 2] [--batch 2] [--repeat 3] [--json]
"""
import argparse
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures", "diffusion", "oracle"))
import hub_shim  # noqa: E402,F401  (diffusers imports huggingface_hub / safetensors; not installed)

sys.path.insert(0, os.environ.get("DIFFUSERS_SRC", "/work/diffusers/src"))
import torch  # noqa: E402
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel  # noqa: E402

import st  # noqa: E402

PRESETS = {
    # runwayml/stable-diffusion-v1-5 unet/config.json shapes
    "sd15": dict(block_out_channels=[320, 640, 1280, 1280], layers_per_block=2, attention_head_dim=8,
                 cross_attention_dim=768, norm_num_groups=32),
    # stabilityai/stable-diffusion-2-1 unet/config.json shapes
    "sd21": dict(block_out_channels=[320, 640, 1280, 1280], layers_per_block=2, attention_head_dim=[5, 10, 20, 20],
                 cross_attention_dim=1024, norm_num_groups=32, use_linear_projection=True, upcast_attention=True),
    # a quick check of the tooling
    "tiny": dict(block_out_channels=[32, 64], layers_per_block=1, attention_head_dim=4, cross_attention_dim=32,
                 norm_num_groups=8, down_block_types=["CrossAttnDownBlock2D", "DownBlock2D"],
                 up_block_types=["UpBlock2D", "CrossAttnUpBlock2D"]),
}


def make(d, preset, sample_size):
    torch.manual_seed(0)
    m = UNet2DConditionModel(sample_size=sample_size, **PRESETS[preset]).eval()
    os.makedirs(d, exist_ok=True)
    cfg = {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.30.3"}
    cfg.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(m.config).items() if not k.startswith("_")})
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    st.save(m.state_dict(), os.path.join(d, "diffusion_pytorch_model.safetensors"), {"format": "pt"})
    print(f"wrote {d}: {sum(p.numel() for p in m.parameters())} parameters")


def bench(d, threads, batch, repeat):
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    cfg = json.load(open(os.path.join(d, "config.json")))
    m = UNet2DConditionModel(**{k: v for k, v in cfg.items() if not k.startswith("_")}).eval()
    weights = st.load(os.path.join(d, "diffusion_pytorch_model.safetensors"))
    m.load_state_dict({k: v.float() for k, v in weights.items()})
    del weights
    load_s = time.perf_counter() - t0
    S = cfg.get("sample_size") or 64
    cad = cfg["cross_attention_dim"]
    cad = cad if isinstance(cad, int) else cad[0]
    g = torch.Generator().manual_seed(1234)
    sample = torch.rand(batch, cfg.get("in_channels", 4), S, S, generator=g) * 2 - 1
    ehs = torch.rand(batch, 77, cad, generator=g) * 2 - 1
    t = torch.tensor([500])
    r = {"engine": "pytorch-eager (diffusers 0.30.3, torch %s)" % torch.__version__, "model_dir": d,
         "model_type": "UNet2DConditionModel", "parameters": sum(p.numel() for p in m.parameters()),
         "threads": threads, "batch": batch, "latent_size": [S, S], "seq_len": 77, "load_s": round(load_s, 4)}
    with torch.no_grad():
        t0 = time.perf_counter()
        m(sample, t, encoder_hidden_states=ehs)
        r["warmup_s"] = round(time.perf_counter() - t0, 4)
        best, best_cpu = 1e30, 0.0
        for _ in range(repeat):
            c0 = time.process_time()
            t0 = time.perf_counter()
            m(sample, t, encoder_hidden_states=ehs)
            dt = time.perf_counter() - t0
            if dt < best:
                best, best_cpu = dt, time.process_time() - c0
    r["cpu_utilisation"] = round(best_cpu / (best * threads), 3)
    r["step_s"] = round(best, 4)
    r["steps_per_s"] = round(1.0 / best, 4)
    r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir", nargs="?")
    ap.add_argument("--make")
    ap.add_argument("--preset", default="sd15", choices=sorted(PRESETS))
    ap.add_argument("--sample-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.make:
        make(a.make, a.preset, a.sample_size)
        return
    if not a.model_dir:
        ap.error("MODEL_DIR or --make DIR is required")
    r = bench(a.model_dir, a.threads, a.batch, a.repeat)
    if a.json:
        print(json.dumps(r))
    else:
        print(f"{r['engine']}: {r['step_s']} s per UNet step ({r['steps_per_s']} steps/s), batch {r['batch']}, "
              f"latents {r['latent_size']}, {r['threads']} threads, cpu share {r['cpu_utilisation']}, "
              f"peak RSS {r['peak_rss_mb']} MiB")


if __name__ == "__main__":
    main()
