#!/usr/bin/python3
"""PyTorch eager FP32 peer for the mixture-of-experts and state-space benchmarks.

Adds Mixtral (top-k softmax routing, experts run on the tokens routed to them as
transformers' MixtralSparseMoeBlock does), Mamba (selective scan as a time loop,
like MambaMixer.slow_forward; causal depthwise conv with a rolling conv state)
and RWKV-4 (the WKV recurrence of rwkv_linear_attention_cpu, rescale_every) to
bench/torch_peer.py, written in plain torch, and runs its measurement, JSON and
--selftest unchanged:

  bench/torch_peer_moe_ssm.py MODEL_DIR [--threads 2] [--prompt-tokens 128] [--gen-tokens 64] [--json]
  bench/torch_peer_moe_ssm.py --selftest tests/fixtures/models/{mixtral,mamba,rwkv}/*   # vs transformers

For a MoE checkpoint weight_bytes_per_token (the roofline) counts only the
experts a token runs (top_k / num_experts of the expert tensors).
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_peer as tp  # noqa: E402


class Mixtral(tp.Llama):
    def __init__(self, cfg, tensors):
        self.E_exp = cfg.get("num_local_experts", 8)
        self.top_k = cfg.get("num_experts_per_tok", 2)
        # The attention half is LLaMA's; the MLP names differ, so load the MoE weights here.
        w = tp.Weights(tensors, ["model."])
        dense = {f"layers.{i}.mlp.{n}.weight": torch.empty(0) for i in range(cfg["num_hidden_layers"])
                 for n in ("gate_proj", "up_proj", "down_proj")}
        super().__init__(cfg, {**tensors, **{"model." + k: v for k, v in dense.items()}})
        for i, l in enumerate(self.layers):
            p = f"layers.{i}.block_sparse_moe."
            l["gate"] = w(p + "gate.weight")
            l["experts"] = [(w(f"{p}experts.{e}.w1.weight"), w(f"{p}experts.{e}.w3.weight"),
                             w(f"{p}experts.{e}.w2.weight")) for e in range(self.E_exp)]
        global ACTIVE_EXPERT_FRACTION
        ACTIVE_EXPERT_FRACTION = self.top_k / self.E_exp

    def mlp(self, l, h):
        """The routed experts in place of Llama's dense SwiGLU."""
        B, T, E = h.shape
        x = h.reshape(B * T, E)
        probs = torch.softmax(F.linear(x, l["gate"]), dim=-1, dtype=torch.float)
        weights, chosen = torch.topk(probs, self.top_k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        for e in chosen.unique().tolist():  # only experts some token was routed to
            rows, slot = torch.where(chosen == e)
            w1, w3, w2 = l["experts"][e]
            xe = x[rows]
            y = F.linear(F.silu(F.linear(xe, w1)) * F.linear(xe, w3), w2) * weights[rows, slot, None]
            out.index_add_(0, rows, y)
        return out.view(B, T, E)


class RecurrentCache:
    """Per-layer recurrent state; `len` counts the tokens consumed (as the KV cache's)."""

    def __init__(self, layers):
        self.state = [None] * layers
        self.len = 0


class Mamba:
    def __init__(self, cfg, tensors):
        w = tp.Weights(tensors, ["backbone."])
        self.L = cfg["num_hidden_layers"]
        self.E = cfg["hidden_size"]
        self.I = cfg.get("intermediate_size", 2 * self.E)
        self.N = cfg.get("state_size", 16)
        self.K = cfg.get("conv_kernel", 4)
        self.R = cfg.get("time_step_rank") or math.ceil(self.E / 16)
        if cfg.get("time_step_rank") == "auto":
            self.R = math.ceil(self.E / 16)
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.max_positions = 1 << 30
        self.embed = w("embeddings.weight")
        self.lm_head = tp.f32(tensors["lm_head.weight"]) if "lm_head.weight" in tensors else self.embed
        get = lambda n: tp.f32(tensors[w.prefix + n]) if (w.prefix + n) in tensors else None
        self.layers = []
        for i in range(self.L):
            p = f"layers.{i}."
            l = {n: get(p + n) for n in ["norm.weight", "mixer.in_proj.weight", "mixer.in_proj.bias",
                                         "mixer.conv1d.weight", "mixer.conv1d.bias", "mixer.x_proj.weight",
                                         "mixer.dt_proj.weight", "mixer.dt_proj.bias", "mixer.out_proj.weight",
                                         "mixer.out_proj.bias", "mixer.D"]}
            l["A"] = -torch.exp(get(p + "mixer.A_log").float())
            self.layers.append(l)
        self.norm_f = w("norm_f.weight")

    def rms(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * weight

    def new_cache(self, batch, max_len):
        c = RecurrentCache(self.L)
        c.state = [(torch.zeros(batch, self.I, self.K - 1), torch.zeros(batch, self.I, self.N)) for _ in range(self.L)]
        return c

    def hidden(self, ids, cache):
        B, T = ids.shape
        x = self.embed[ids]
        for i, l in enumerate(self.layers):
            conv_state, ssm = cache.state[i]
            h = self.rms(x, l["norm.weight"])
            xz = F.linear(h, l["mixer.in_proj.weight"], l["mixer.in_proj.bias"]).transpose(1, 2)  # [B, 2I, T]
            xs, z = xz.chunk(2, dim=1)
            window = torch.cat([conv_state, xs], dim=2)  # [B, I, K-1+T]
            conv_state = window[:, :, -(self.K - 1):]
            xs = F.silu(F.conv1d(window, l["mixer.conv1d.weight"], l["mixer.conv1d.bias"], groups=self.I))  # [B, I, T]
            dbc = F.linear(xs.transpose(1, 2), l["mixer.x_proj.weight"])  # [B, T, R+2N]
            dt, Bm, Cm = torch.split(dbc, [self.R, self.N, self.N], dim=-1)
            dt = F.softplus(F.linear(dt, l["mixer.dt_proj.weight"], l["mixer.dt_proj.bias"])).transpose(1, 2)  # [B, I, T]
            dA = torch.exp(l["A"][None, :, None, :] * dt[:, :, :, None])  # [B, I, T, N]
            dBx = (dt[:, :, :, None] * Bm[:, None, :, :]) * xs[:, :, :, None]
            ys = []
            for t in range(T):
                ssm = dA[:, :, t] * ssm + dBx[:, :, t]
                ys.append(torch.matmul(ssm, Cm[:, t, :, None])[..., 0])  # [B, I]
            y = torch.stack(ys, dim=-1) + xs * l["mixer.D"][None, :, None]
            y = y * F.silu(z)
            x = x + F.linear(y.transpose(1, 2), l["mixer.out_proj.weight"], l["mixer.out_proj.bias"])
            cache.state[i] = (conv_state, ssm)
        cache.len += T
        return self.rms(x, self.norm_f)


class Rwkv:
    def __init__(self, cfg, tensors):
        w = tp.Weights(tensors, ["rwkv."])
        self.L = cfg["num_hidden_layers"]
        self.E = cfg["hidden_size"]
        self.A = cfg.get("attention_hidden_size") or self.E
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.rescale = cfg.get("rescale_every", 6)
        self.max_positions = 1 << 30
        self.embed = w("embeddings.weight")
        self.lm_head = tp.f32(tensors["head.weight"])
        self.layers = []
        for i in range(self.L):
            p = f"blocks.{i}."
            l = {n: w(p + n) for n in ["ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias",
                                        "attention.time_decay", "attention.time_first", "attention.time_mix_key",
                                        "attention.time_mix_value", "attention.time_mix_receptance",
                                        "attention.key.weight", "attention.value.weight",
                                        "attention.receptance.weight", "attention.output.weight",
                                        "feed_forward.time_mix_key", "feed_forward.time_mix_receptance",
                                        "feed_forward.key.weight", "feed_forward.receptance.weight",
                                        "feed_forward.value.weight"]}
            if i == 0:
                l["pre_ln"] = (w(p + "pre_ln.weight"), w(p + "pre_ln.bias"))
            if self.rescale > 0:  # RwkvModel._rescale_layers at inference
                f = 2 ** (i // self.rescale)
                l["attention.output.weight"] = l["attention.output.weight"] / f
                l["feed_forward.value.weight"] = l["feed_forward.value.weight"] / f
            l["decay"] = -torch.exp(l["attention.time_decay"])
            self.layers.append(l)
        self.ln_out = (w("ln_out.weight"), w("ln_out.bias"))

    def new_cache(self, batch, max_len):
        c = RecurrentCache(self.L)
        z = lambda: torch.zeros(batch, self.E)
        c.state = [[z(), z(), torch.zeros(batch, self.A), torch.zeros(batch, self.A),
                    torch.full((batch, self.A), -1e38)] for _ in range(self.L)]
        return c

    def hidden(self, ids, cache):
        B, T = ids.shape
        x = self.embed[ids]
        ln = lambda v, wb: F.layer_norm(v, (self.E,), wb[0], wb[1], self.eps)
        for i, l in enumerate(self.layers):
            st = cache.state[i]  # ffn shift, att shift, num, den, max
            if i == 0:
                x = ln(x, l["pre_ln"])
            h = ln(x, (l["ln1.weight"], l["ln1.bias"]))
            shifted = torch.cat([st[1][:, None], h[:, :-1]], dim=1)
            st[1] = h[:, -1]
            mix = lambda m: h * m + shifted * (1 - m)
            k = F.linear(mix(l["attention.time_mix_key"]), l["attention.key.weight"])
            v = F.linear(mix(l["attention.time_mix_value"]), l["attention.value.weight"])
            r = torch.sigmoid(F.linear(mix(l["attention.time_mix_receptance"]), l["attention.receptance.weight"]))
            num, den, mx = st[2], st[3], st[4]
            out = torch.empty_like(k)
            u, wdec = l["attention.time_first"], l["decay"]
            for t in range(T):
                kt, vt = k[:, t], v[:, t]
                m_out = torch.maximum(mx, kt + u)
                e1, e2 = torch.exp(mx - m_out), torch.exp(kt + u - m_out)
                out[:, t] = (e1 * num + e2 * vt) / (e1 * den + e2)
                m_st = torch.maximum(mx + wdec, kt)
                e1, e2 = torch.exp(mx + wdec - m_st), torch.exp(kt - m_st)
                num, den, mx = e1 * num + e2 * vt, e1 * den + e2, m_st
            st[2], st[3], st[4] = num, den, mx
            x = x + F.linear(r * out, l["attention.output.weight"])
            h = ln(x, (l["ln2.weight"], l["ln2.bias"]))
            shifted = torch.cat([st[0][:, None], h[:, :-1]], dim=1)
            st[0] = h[:, -1]
            kk = torch.square(torch.relu(F.linear(h * l["feed_forward.time_mix_key"] +
                                                  shifted * (1 - l["feed_forward.time_mix_key"]),
                                                  l["feed_forward.key.weight"])))
            rr = torch.sigmoid(F.linear(h * l["feed_forward.time_mix_receptance"] +
                                        shifted * (1 - l["feed_forward.time_mix_receptance"]),
                                        l["feed_forward.receptance.weight"]))
            x = x + rr * F.linear(kk, l["feed_forward.value.weight"])
            if self.rescale > 0 and (i + 1) % self.rescale == 0:
                x = x / 2
        cache.len += T
        return ln(x, self.ln_out)


ACTIVE_EXPERT_FRACTION = 1.0
_all_weight_bytes = tp.weight_bytes_per_token


def weight_bytes_per_token(tensors):
    """torch_peer's figure, with the routed experts counted at top_k / num_experts."""
    total = _all_weight_bytes(tensors)
    experts = sum(t.numel() * t.element_size() for n, t in tensors.items() if ".experts." in n)
    return int(total - experts * (1.0 - ACTIVE_EXPERT_FRACTION))


tp.weight_bytes_per_token = weight_bytes_per_token
tp.MODELS.update({"mixtral": ("decoder-only", Mixtral), "mamba": ("decoder-only", Mamba),
                  "rwkv": ("decoder-only", Rwkv)})

if __name__ == "__main__":
    sys.exit(tp.main())
