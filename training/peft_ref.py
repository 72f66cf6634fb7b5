"""PEFT LoRA reference: write random adapters exactly as PEFT saves them, and compute reference
logits with PEFT's math, so the TypeScript runtime can be checked against it.

    python3 training/peft_ref.py write --model DIR --out DIR [--seed 1 --r 8 --alpha 16
        --targets q_proj,v_proj | --targets-regex '.*\\.(q|v)_proj' | --targets all-linear | --targets default
        --rslora --rank-pattern '{"q_proj": 2}' --alpha-pattern '{"down_proj": 4}'
        --layers 0,1 --layers-pattern layers --dtype F32 --scale 0.3
        --kind character|mood|skill --name NAME --version 1 --base-hash HEX --base-name NAME]
    python3 training/peft_ref.py reference --model DIR --cases cases.json --out ref.json

Files written (PEFT's layout, `save_pretrained` of a PeftModel with the adapter name removed):
  adapter_config.json       every field PEFT writes (peft_type "LORA", r, lora_alpha, target_modules, ...)
  adapter_model.safetensors base_model.model.<module>.lora_A.weight [r, in], ...lora_B.weight [out, r]
  adapter.json              only with --kind: Kith's pack metadata (kind, name, version, base_model)

Reference cases (JSON list): {"prompt": [ids], "steps": n, "adapters": [{"dir": D, "weight": w}, ...]}.
Each case runs alone (batch 1): y = x Wᵀ + b + Σ_k w_k · s_k · (x A_kᵀ) B_kᵀ on every targeted linear,
s = alpha / r (rsLoRA: alpha / √r). Output: [{"tokens": [greedy ids], "logits": [[T*V prefill], [V], ...]}].
Target resolution below is written from PEFT's rules (check_target_module_exists, get_pattern_key),
independently of the TypeScript loader it checks.
"""
import argparse
import json
import math
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_io import load_pretrained, read_safetensors, write_safetensors  # noqa: E402

LINEAR_SUFFIXES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
DEFAULT_TARGETS = ["q_proj", "v_proj"]  # PEFT's default for llama / qwen2 / mistral


def linear_modules(model):
    """(name, module) of every linear PEFT could target, as named_modules() names them."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and n != "lm_head"]


def pattern_key(keys, name):
    for k in keys:
        if re.match(rf"(.*\.)?{k}$", name):
            return k
    return None


def is_target(cfg, name):
    targets = cfg["target_modules"]
    if targets is None:
        targets = DEFAULT_TARGETS
    if targets == "all-linear":
        targets = LINEAR_SUFFIXES
    ex = cfg.get("exclude_modules")
    if ex:
        if isinstance(ex, str) and re.fullmatch(ex, name):
            return False
        if isinstance(ex, list) and (name in ex or any(name.endswith("." + e) for e in ex)):
            return False
    if isinstance(targets, str):
        return re.fullmatch(targets, name) is not None
    if name in targets:
        return True
    found = any(name.endswith("." + t) for t in targets)
    layers = cfg.get("layers_to_transform")
    if found and layers is not None and (not isinstance(layers, list) or len(layers) > 0):
        pats = cfg.get("layers_pattern")
        if not pats:
            m = re.match(r".*\.[^.]*\.(\d+)\.", name)
        else:
            m = None
            for p in [pats] if isinstance(pats, str) else pats:
                m = re.match(rf".*\.{p}\.(\d+)\.", name)
                if m:
                    break
        if m is None:
            return False
        idx = int(m.group(1))
        return idx == layers if isinstance(layers, int) else idx in layers
    return found


def rank_alpha(cfg, name):
    r, alpha = cfg["r"], cfg["lora_alpha"]
    k = pattern_key(list(cfg.get("rank_pattern") or {}), name)
    if k is not None:
        r = cfg["rank_pattern"][k]
    k = pattern_key(list(cfg.get("alpha_pattern") or {}), name)
    if k is not None:
        alpha = cfg["alpha_pattern"][k]
    return r, alpha


def write(a):
    model = load_pretrained(a.model)
    g = torch.Generator().manual_seed(a.seed)
    if a.targets_regex:
        targets = a.targets_regex
    elif a.targets == "all-linear":
        targets = "all-linear"
    elif a.targets == "default":
        targets = None
    else:
        targets = a.targets.split(",")
    layers = [int(x) for x in a.layers.split(",")] if a.layers else None
    # Field order and defaults as PEFT's LoraConfig.to_dict() writes them (peft 0.13-0.17).
    cfg = {
        "alpha_pattern": json.loads(a.alpha_pattern), "auto_mapping": None,
        "base_model_name_or_path": a.base_name or a.model, "bias": "none", "corda_config": None,
        "eva_config": None, "exclude_modules": None, "fan_in_fan_out": False, "inference_mode": True,
        "init_lora_weights": True, "layer_replication": None, "layers_pattern": a.layers_pattern or None,
        "layers_to_transform": layers, "loftq_config": {}, "lora_alpha": a.alpha, "lora_bias": False,
        "lora_dropout": 0.05, "megatron_config": None, "megatron_core": "megatron.core",
        "modules_to_save": None, "peft_type": "LORA", "r": a.r, "rank_pattern": json.loads(a.rank_pattern),
        "revision": None, "target_modules": targets, "task_type": "CAUSAL_LM", "trainable_token_indices": None,
        "use_dora": False, "use_rslora": a.rslora,
    }
    tensors = {}
    for name, m in linear_modules(model):
        if not is_target(cfg, name):
            continue
        r, _ = rank_alpha(cfg, name)
        # PEFT inits B to zero; a trained adapter has B ≠ 0, which is what a parity test needs.
        tensors[f"base_model.model.{name}.lora_A.weight"] = torch.randn(r, m.in_features, generator=g) * a.scale / math.sqrt(m.in_features)
        tensors[f"base_model.model.{name}.lora_B.weight"] = torch.randn(m.out_features, r, generator=g) * a.scale
    if not tensors:
        raise SystemExit("write: the target settings select no module of this model")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(a.out, "adapter_model.safetensors"), tensors, a.dtype)
    if a.kind:
        meta = {"kind": a.kind, "name": a.name or os.path.basename(a.out.rstrip("/")), "version": a.version,
                "base_model": {"hash": a.base_hash, "name": a.base_name or os.path.basename(a.model.rstrip("/"))}}
        with open(os.path.join(a.out, "adapter.json"), "w") as f:
            json.dump(meta, f, indent=2)
    print(f"wrote {a.out}: {len(tensors) // 2} modules")


def load_adapter(d):
    with open(os.path.join(d, "adapter_config.json")) as f:
        cfg = json.load(f)
    return cfg, read_safetensors(os.path.join(d, "adapter_model.safetensors"))


class LoraLinear(torch.nn.Module):
    """base(x) + Σ_k weight_k · scale_k · (x A_kᵀ) B_kᵀ — PEFT's LoRA forward (dropout off)."""

    def __init__(self, base, terms):
        super().__init__()
        self.base, self.terms = base, terms

    def forward(self, x):
        y = self.base(x)
        for A, B, s in self.terms:
            y = y + s * ((x @ A.T) @ B.T)
        return y


def with_adapters(model, adapters):
    """Swap every targeted linear for a LoraLinear carrying the mixture's terms; returns the undo list."""
    undo = []
    for name, m in linear_modules(model):
        terms = []
        for cfg, sd, w in adapters:
            if not is_target(cfg, name):
                continue
            r, alpha = rank_alpha(cfg, name)
            s = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
            A = sd[f"base_model.model.{name}.lora_A.weight"]
            B = sd[f"base_model.model.{name}.lora_B.weight"]
            terms.append((A.double(), B.double(), w * s))
        if terms:
            parent_name, child = name.rsplit(".", 1)
            parent = model.get_submodule(parent_name)
            setattr(parent, child, LoraLinear(m, terms))
            undo.append((parent, child, m))
    return undo


def reference(a):
    model = load_pretrained(a.model).double()  # f64 so the reference's own rounding is negligible
    with open(a.cases) as f:
        cases = json.load(f)
    out = []
    for case in cases:
        adapters = [(*load_adapter(x["dir"]), float(x["weight"])) for x in case.get("adapters", [])]
        undo = with_adapters(model, adapters)
        tokens, logits = model.greedy(torch.tensor([case["prompt"]]), case["steps"])
        for parent, child, m in undo:
            setattr(parent, child, m)
        out.append({"tokens": tokens, "logits": [l.float().flatten().tolist() for l in logits]})
    with open(a.out, "w") as f:
        json.dump(out, f)
    print(f"wrote {a.out}: {len(out)} cases")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("--model", required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--seed", type=int, default=1)
    w.add_argument("--r", type=int, default=8)
    w.add_argument("--alpha", type=float, default=16)
    w.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
    w.add_argument("--targets-regex", default="")
    w.add_argument("--rslora", action="store_true")
    w.add_argument("--rank-pattern", default="{}")
    w.add_argument("--alpha-pattern", default="{}")
    w.add_argument("--layers", default="")
    w.add_argument("--layers-pattern", default="")
    w.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    w.add_argument("--scale", type=float, default=0.3)
    w.add_argument("--kind", default="", choices=["", "character", "mood", "skill"])
    w.add_argument("--name", default="")
    w.add_argument("--version", default="1")
    w.add_argument("--base-hash", default="")
    w.add_argument("--base-name", default="")
    r = sub.add_parser("reference")
    r.add_argument("--model", required=True)
    r.add_argument("--cases", required=True)
    r.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "write":
        write(a)
    else:
        reference(a)


if __name__ == "__main__":
    main()
