"""Checkpoint -> model package in the Hugging Face layout (what core/runtime loads).

    /usr/bin/python3 training/export.py [--ckpt training/out/base/ckpt.pt] [--out assets/model]
        [--tokenizer assets/tokenizer] [--dtype F32|F16|BF16] [--data data]

Writes config.json (LlamaForCausalLM), model.safetensors, tokenizer.json + tokenizer_config.json
(copied from --tokenizer), generation_config.json (eos = <|end|>, pad = <|pad|>, greedy) and
training_meta.json (data seed and counts, steps, tokens seen, final losses, wall time, and the
lineage: every run the weights went through, oldest first, with the tokens each saw).
"""
import argparse
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_io import save_pretrained  # noqa: E402
from model import LlamaConfig, LlamaForCausalLM  # noqa: E402

END_ID, PAD_ID = 8, 0  # <|end|>, <|pad|> (core/prompt/markers.ts order)


def finite(x):
    """NaN/inf -> None, so the JSON stays valid."""
    return x if isinstance(x, (int, float)) and x == x and abs(x) != float("inf") else None


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def lineage(before, rc, ck, a):
    """The runs behind these weights: the init folder's lineage (or that folder's own run, when it
    has none), then this run. Exporting the same run twice does not list it twice."""
    runs = []
    if before:
        runs = list(before.get("lineage") or [])
        if not runs and before.get("run_config"):
            prc = before["run_config"]
            runs = [{"run": os.path.basename(os.path.normpath(prc.get("out_dir", "?"))), "out_dir": prc.get("out_dir"),
                     "steps": before.get("steps"), "tokens_seen": before.get("tokens_seen"), "data": prc.get("train_data")}]
    this = {
        "run": a.run_name or os.path.basename(os.path.normpath(rc.get("out_dir", "?"))),
        "out_dir": rc.get("out_dir"),
        "steps": ck["step"],
        "tokens_seen": ck.get("tokens_seen"),
        "data": rc.get("train_data"),
        "init_from": rc.get("init_from") or None,
        "lr": f"{rc.get('lr')} -> {rc.get('min_lr')}",
        "wall_seconds": round(ck.get("wall_seconds", 0.0), 1),
    }
    if a.note:
        this["note"] = a.note
    runs = [r for r in runs if not (r.get("out_dir") == this["out_dir"] and r.get("steps") == this["steps"])]
    return runs + [this]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default="training/out/base/ckpt.pt")
    ap.add_argument("--out", default="assets/model")
    ap.add_argument("--tokenizer", default="assets/tokenizer")
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    ap.add_argument("--data", default="data", help="folder with summary.json and <split>.meta.json (for training_meta.json)")
    ap.add_argument("--run_name", default=None, help="this run's name in the lineage (default: the checkpoint's out_dir name)")
    ap.add_argument("--note", default=None, help="a line about this run for the lineage")
    a = ap.parse_args()
    if not os.path.exists(a.ckpt):
        raise SystemExit(f"--ckpt {a.ckpt}: not found (train first: npm run train:base)")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        if not os.path.exists(os.path.join(a.tokenizer, f)):
            raise SystemExit(f"--tokenizer {a.tokenizer}: {f} not found")
    ck = torch.load(a.ckpt, map_location="cpu")
    for key in ("model", "model_config", "run_config", "step"):
        if key not in ck:
            raise SystemExit(f"{a.ckpt}: not a train_base checkpoint (no {key!r})")
    # Read before writing: a fine-tune of assets/model is usually exported back into assets/model.
    rc = ck["run_config"]
    before = None
    if rc.get("init_from") and os.path.isdir(rc["init_from"]):
        meta_path = os.path.join(rc["init_from"], "training_meta.json")
        try:
            before = read_json(meta_path)
        except (ValueError, OSError) as e:
            print(f"export: {meta_path} is unreadable ({e}); the lineage starts at this run", file=sys.stderr)
    cfg = LlamaConfig(**ck["model_config"])
    model = LlamaForCausalLM(cfg)
    model.load_state_dict(ck["model"])
    save_pretrained(model, a.out, a.dtype)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(a.tokenizer, f), os.path.join(a.out, f))
    gen = {"bos_token_id": cfg.bos_token_id, "eos_token_id": END_ID, "pad_token_id": PAD_ID,
           "do_sample": False, "max_new_tokens": 64}
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)

    hist = ck.get("history", [])
    summary = read_json(os.path.join(a.data, "summary.json")) or {}
    prefix = os.path.basename(rc["train_data"])
    tmeta = read_json(os.path.join(os.path.dirname(rc["train_data"]) or ".", prefix + ".meta.json")) or {}
    meta = {
        "params": sum(p.numel() for p in model.parameters()),
        "dtype": a.dtype,
        "data": {"seed": summary.get("seed"), "summary": {k: v for k, v in summary.items() if k != "seed"},
                 "train_samples": tmeta.get("samples"), "train_tokens": tmeta.get("tokens"),
                 "tokenizer": tmeta.get("tokenizer")},
        "steps": ck["step"],
        "tokens_seen": ck.get("tokens_seen"),
        "completion_tokens_seen": ck.get("completion_tokens_seen"),
        "final_train_loss": finite(next((h["train_loss"] for h in reversed(hist) if "train_loss" in h), None)),
        "final_val_loss": finite(next((h["val_loss"] for h in reversed(hist) if "val_loss" in h), None)),
        "loss": "cross-entropy on completion tokens, nats/token; val on the first eval_samples held-out samples",
        "wall_seconds": round(ck.get("wall_seconds", 0.0), 1),
        "run_config": rc,
    }
    meta["lineage"] = lineage(before, rc, ck, a)
    meta["total_tokens_seen"] = sum(e.get("tokens_seen") or 0 for e in meta["lineage"])
    with open(os.path.join(a.out, "training_meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    size = os.path.getsize(os.path.join(a.out, "model.safetensors"))
    print(json.dumps({"out": a.out, "params": meta["params"], "dtype": a.dtype, "safetensors_bytes": size,
                      "steps": ck["step"], "final_val_loss": meta["final_val_loss"]}))


if __name__ == "__main__":
    main()
