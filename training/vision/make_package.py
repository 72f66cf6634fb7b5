"""Writes a vision package. --random: untrained weights (for tests and wiring), seeded.
  /usr/bin/python3 training/vision/make_package.py --random --out DIR [--hidden 192] [--feature-dim 64] [--seed 0]
  [--base-model assets/model] (its hash goes into vision.json) [--widths 24,32,48,64,64] (the encoder's)"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from lora import base_model_hash  # noqa: E402
from vision.model import CONVS, Encoder, Projector, convs_of  # noqa: E402
from vision.package import save_package  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", action="store_true", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hidden", type=int, default=192)
    ap.add_argument("--feature-dim", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--base-model", default=None)
    ap.add_argument("--widths", default=",".join(str(c[1]) for c in CONVS))
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    enc, proj = Encoder(a.feature_dim, convs=convs_of(a.widths)), Projector(a.feature_dim, a.hidden)
    nn_init = torch.nn.init
    nn_init.normal_(proj.pos, std=0.02)
    base_hash = base_model_hash(a.base_model) if a.base_model else "random"
    m = save_package(a.out, enc, proj, base_hash=base_hash, extra={"trained": False})
    print(f"wrote {a.out}: {m}")


if __name__ == "__main__":
    main()
