"""PyTorch reference outputs of a vision package, for the TypeScript parity test.
  /usr/bin/python3 training/vision/reference.py --pkg assets/vision --out ref.json [--seed 0]
Writes {pixels [2,3,64,64], features [2,64,D], tokens [2,16,H]} as flat lists."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from vision.package import load_package  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pkg", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    _, enc, proj = load_package(a.pkg)
    g = torch.Generator().manual_seed(a.seed)
    pixels = torch.rand(2, 3, 64, 64, generator=g)
    pixels[1, 0] = 1.0  # a second, very red picture
    with torch.no_grad():
        feats = enc(pixels)
        tokens = proj(feats)
    with open(a.out, "w") as f:
        json.dump({"pixels": pixels.flatten().tolist(), "features": feats.flatten().tolist(), "tokens": tokens.flatten().tolist()}, f)


if __name__ == "__main__":
    main()
