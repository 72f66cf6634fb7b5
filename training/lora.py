"""LoRA on the frozen base model, with the runtime's mixing rule, and PEFT packs in and out.

A targeted linear becomes a LoraLinear holding any number of named adapters; the active mixture
(name -> weight) says which of them add their term:

    y = x Wᵀ (+ b) + Σ_k  w_k · s_k · (drop(x) A_kᵀ) B_kᵀ        s_k = alpha / r  (PEFT's scaling)

which is PEFT's LoRA forward and exactly what the runtime computes for a folded mixture
(core/runtime/lora/mixture.ts: A's concatenated along the rank, B's scaled by w_k · s_k). A new
adapter starts as PEFT starts one: A Kaiming-uniform (a = √5, as nn.Linear), B zeros, so it begins
as the identity on the base model.

Packs are written in PEFT's layout (adapter_config.json with the fields PEFT writes,
adapter_model.safetensors with keys base_model.model.<module>.lora_A.weight [r, in] and
.lora_B.weight [out, r]) plus Kith's adapter.json {kind, name, version, base_model {hash, name}}.
`base_model_hash` is core/runtime/lora/base-hash.ts in Python (same bytes in, same hex out).
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_io import read_safetensors, write_safetensors  # noqa: E402

ALL_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class LoraLinear(nn.Module):
    """A frozen nn.Linear plus named low-rank terms; `mix` (name -> weight) picks the active ones.
    A weight may be a float or a tensor broadcastable over the batch (B, 1, 1) for per-row mixtures."""

    def __init__(self, base, dropout=0.0):
        super().__init__()
        self.base = base
        self.A = nn.ParameterDict()  # name -> (r, in)
        self.B = nn.ParameterDict()  # name -> (out, r)
        self.scaling = {}
        self.mix = {}
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def add(self, name, r, alpha, generator=None):
        A = torch.empty(r, self.base.in_features)
        # nn.Linear's (and PEFT's) init: kaiming_uniform_(a=√5) = U(-1/√in, 1/√in)
        bound = 1.0 / math.sqrt(self.base.in_features)
        A.uniform_(-bound, bound, generator=generator)
        self.A[name] = nn.Parameter(A)
        self.B[name] = nn.Parameter(torch.zeros(self.base.out_features, r))
        self.scaling[name] = alpha / r

    def set(self, name, A, B, scaling):
        self.A[name] = nn.Parameter(A.float().clone(), requires_grad=False)
        self.B[name] = nn.Parameter(B.float().clone(), requires_grad=False)
        self.scaling[name] = scaling

    def forward(self, x):
        y = self.base(x)
        rows = getattr(self, "rows", None)
        if rows:
            # One adapter per batch row (same rank): gathered factors, two batched matmuls, so a
            # batch of rows with different characters costs what one adapter costs.
            A = torch.stack([self.A[n] for n in rows])  # (B, r, in)
            Bm = torch.stack([self.B[n] * self.scaling[n] for n in rows])  # (B, out, r)
            y = y + torch.bmm(torch.bmm(x, A.transpose(1, 2)), Bm.transpose(1, 2))
        if not self.mix:
            return y
        xd = self.drop(x)
        for name, w in self.mix.items():
            if isinstance(w, (int, float)) and w == 0:
                continue
            y = y + (w * self.scaling[name]) * ((xd @ self.A[name].T) @ self.B[name].T)
        return y


def lora_modules(model, targets=ALL_TARGETS):
    """(module name, LoraLinear) for every wrapped linear, in model order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, LoraLinear)]


def attach(model, targets=ALL_TARGETS, dropout=0.0):
    """Freezes the base and wraps every linear whose name ends in one of `targets` (lm_head never)."""
    for p in model.parameters():
        p.requires_grad_(False)
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear) and n != "lm_head" and n.rsplit(".", 1)[-1] in targets]
    if not names:
        raise SystemExit(f"lora: no linear matches targets {targets}; linears end in {ALL_TARGETS}")
    for n in names:
        parent, child = n.rsplit(".", 1)
        pm = model.get_submodule(parent)
        setattr(pm, child, LoraLinear(getattr(pm, child), dropout))
    return model


def add_adapter(model, name, r, alpha, seed):
    g = torch.Generator().manual_seed(seed)
    for _, m in lora_modules(model):
        m.add(name, r, alpha, g)
    return [p for _, m in lora_modules(model) for p in (m.A[name], m.B[name])]


def set_row_adapters(model, names):
    """Per-row adapters (one name per batch row, all of one rank), applied on top of `mix`;
    None or [] turns them off."""
    for _, m in lora_modules(model):
        m.rows = list(names) if names else None


def set_mix(model, mix):
    for _, m in lora_modules(model):
        m.mix = dict(mix)


def peft_config(r, alpha, targets, base_name, dropout):
    """adapter_config.json as PEFT's LoraConfig.to_dict() writes it (peft 0.13-0.17 field set)."""
    return {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": base_name, "bias": "none",
        "corda_config": None, "eva_config": None, "exclude_modules": None, "fan_in_fan_out": False,
        "inference_mode": True, "init_lora_weights": True, "layer_replication": None, "layers_pattern": None,
        "layers_to_transform": None, "loftq_config": {}, "lora_alpha": alpha, "lora_bias": False,
        "lora_dropout": dropout, "megatron_config": None, "megatron_core": "megatron.core", "modules_to_save": None,
        "peft_type": "LORA", "r": r, "rank_pattern": {}, "revision": None, "target_modules": sorted(targets),
        "task_type": "CAUSAL_LM", "trainable_token_indices": None, "use_dora": False, "use_rslora": False,
    }


def save_pack(model, name, out_dir, *, kind, r, alpha, targets, dropout, base_hash, base_name, version, dtype="F32", extra=None):
    """Writes adapter `name` of `model` as a PEFT pack (factors stored as `dtype`) + adapter.json into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    tensors = {}
    for mod, m in lora_modules(model):
        if name not in m.A:
            continue
        tensors[f"base_model.model.{mod}.lora_A.weight"] = m.A[name].detach()
        tensors[f"base_model.model.{mod}.lora_B.weight"] = m.B[name].detach()
    if not tensors:
        raise SystemExit(f"save_pack: the model holds no adapter named {name!r}")
    with open(os.path.join(out_dir, "adapter_config.json"), "w") as f:
        json.dump(peft_config(r, alpha, targets, base_name, dropout), f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(out_dir, "adapter_model.safetensors"), tensors, dtype)
    meta = {"kind": kind, "name": name, "version": version, "base_model": {"hash": base_hash, "name": base_name}}
    if extra:
        meta.update(extra)
    with open(os.path.join(out_dir, "adapter.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


def load_pack(model, name, pack_dir, expect_hash=None):
    """Loads a PEFT pack written by save_pack (or PEFT with list targets) as frozen adapter `name`."""
    with open(os.path.join(pack_dir, "adapter_config.json")) as f:
        cfg = json.load(f)
    if expect_hash is not None:
        meta_path = os.path.join(pack_dir, "adapter.json")
        got = json.load(open(meta_path))["base_model"]["hash"] if os.path.exists(meta_path) else None
        if got != expect_hash:
            raise SystemExit(f"{pack_dir}: trained for base {got}, but this base is {expect_hash}; retrain it first")
    if cfg.get("use_rslora") or cfg.get("rank_pattern") or cfg.get("alpha_pattern"):
        raise SystemExit(f"{pack_dir}: rsLoRA / rank or alpha patterns are not supported by this trainer's loader")
    sd = read_safetensors(os.path.join(pack_dir, "adapter_model.safetensors"))
    scaling = cfg["lora_alpha"] / cfg["r"]
    n = 0
    for mod, m in lora_modules(model):
        ka, kb = f"base_model.model.{mod}.lora_A.weight", f"base_model.model.{mod}.lora_B.weight"
        if ka in sd:
            m.set(name, sd[ka], sd[kb], scaling)
            n += 1
    if n == 0:
        raise SystemExit(f"{pack_dir}: no tensor matches this model's wrapped linears")
    return n


# ---- base model fingerprint (core/runtime/lora/base-hash.ts) ----

BASE_HASH_SAMPLES = 64


def content_hash(data):
    """core/runtime/model/package.ts contentHash: two 32-bit multiplicative hashes over LE words."""
    M = 0xFFFFFFFF
    n = len(data)
    words = n // 4
    h1, h2 = 0x811C9DC5, (0x01000193 ^ n) & M
    u32 = np.frombuffer(data[: words * 4], dtype="<u4")
    for w in u32.tolist():
        h1 = ((h1 ^ w) * 0x01000193) & M
        rot = ((w >> 7) | (w << 25)) & M
        h2 = ((h2 ^ rot) * 0x5BD1E995) & M
    for b in data[words * 4 :]:
        h1 = ((h1 ^ b) * 0x01000193) & M
    return f"{h1:08x}{h2:08x}"


def base_model_hash(model_dir):
    """Same hex as `npm run adapters -- hash <model_dir>` (single-file model.safetensors)."""
    path = os.path.join(model_dir, "model.safetensors")
    with open(path, "rb") as f:
        raw = f.read()
    (hn,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + hn])
    base = 8 + hn
    parts = []
    for name in sorted(k for k in header if k != "__metadata__"):
        e = header[name]
        shape = "[" + ",".join(str(d) for d in e["shape"]) + "]"
        parts.append(f"{name} {e['dtype']} {shape}\n".encode())
        a, b = e["data_offsets"]
        words = (b - a) // 4
        k = min(BASE_HASH_SAMPLES, words)
        sample = bytearray()
        for i in range(k):
            at = base + a + (i * words // k) * 4
            sample += raw[at : at + 4]
        parts.append(bytes(sample))
    return content_hash(b"".join(parts))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "hash":
        raise SystemExit("usage: python3 training/lora.py hash <model dir>")
    print(base_model_hash(sys.argv[2]))
