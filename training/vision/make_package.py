"""Writes a vision package. --random: untrained weights (for tests and wiring), seeded.
  /usr/bin/python3 training/vision/make_package.py --random --out DIR [--hidden 192] [--feature-dim 64] [--seed 0]
  [--base-model assets/model] (its hash goes into vision.json) [--widths 24,32,48,64,64] (the encoder's)
  [--detector-hidden H] (a random prop detector too, threshold 0.5)"""
import argparse
import os
import sys

import json

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from lora import base_model_hash  # noqa: E402
from hf_io import write_safetensors  # noqa: E402
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
    ap.add_argument("--detector-hidden", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    enc, proj = Encoder(a.feature_dim, convs=convs_of(a.widths)), Projector(a.feature_dim, a.hidden)
    nn_init = torch.nn.init
    nn_init.normal_(proj.pos, std=0.02)
    base_hash = base_model_hash(a.base_model) if a.base_model else "random"
    extra = {"trained": False}
    if a.detector_hidden:
        from vision.train_detector import Detector
        det = Detector(a.feature_dim, a.detector_hidden)
        for t in det.tensors().values():  # spread the outputs, so a random package detects something
            nn_init.normal_(t, std=0.3)
        os.makedirs(a.out, exist_ok=True)
        write_safetensors(os.path.join(a.out, "detector.safetensors"), {k: v.detach() for k, v in det.tensors().items()})
        extra["detector"] = {"file": "detector.safetensors", "hidden": a.detector_hidden, "threshold": 0.5}
    m = save_package(a.out, enc, proj, base_hash=base_hash, extra=extra)
    print(f"wrote {a.out}: {m}")


if __name__ == "__main__":
    main()
