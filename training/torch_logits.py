"""PyTorch logits of an exported model on one prompt, for parity checks against the runtime.

    /usr/bin/python3 training/torch_logits.py --model DIR --ids 6,2204,8,7 --out logits.json
Writes {"ids": [...], "vocab": V, "logits": [T*V floats, row-major (position, token)]}.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_io import load_pretrained  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True, help="comma-separated token ids")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    try:
        ids = [int(x) for x in a.ids.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"--ids {a.ids!r}: expected comma-separated integers")
    if not ids:
        raise SystemExit("--ids: no ids given")
    torch.set_num_threads(1)
    model = load_pretrained(a.model)
    if max(ids) >= model.cfg.vocab_size or min(ids) < 0:
        raise SystemExit(f"--ids: ids must be in [0, {model.cfg.vocab_size})")
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids]))
    with open(a.out, "w") as f:
        json.dump({"ids": ids, "vocab": model.cfg.vocab_size, "logits": logits[0].reshape(-1).tolist()}, f)


if __name__ == "__main__":
    main()
