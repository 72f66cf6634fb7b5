"""PyTorch reference outputs of a vision package, for the TypeScript parity test.
  /usr/bin/python3 training/vision/reference.py --pkg assets/vision --out ref.json [--seed 0]
Writes {pixels [2,3,64,64], features [2,64,D], tokens [2,16,H]} as flat lists, and when the package
has a prop detector, `detected`: per picture the decoded props [cy, cx, kind, colour, depth, p]."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from hf_io import read_safetensors  # noqa: E402
from vision.package import load_package  # noqa: E402
from vision.train_detector import Detector, decode  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pkg", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    m, enc, proj = load_package(a.pkg)
    g = torch.Generator().manual_seed(a.seed)
    pixels = torch.rand(2, 3, 64, 64, generator=g)
    pixels[1, 0] = 1.0  # a second, very red picture
    with torch.no_grad():
        feats = enc(pixels)
        tokens = proj(feats)
    out = {"pixels": pixels.flatten().tolist(), "features": feats.flatten().tolist(), "tokens": tokens.flatten().tolist()}
    if "detector" in m:
        d = m["detector"]
        det = Detector(m["feature_dim"], d["hidden"])
        t = read_safetensors(os.path.join(a.pkg, d["file"]))
        for k, p in det.tensors().items():
            p.data.copy_(t[k])
        with torch.no_grad():
            g = feats.transpose(1, 2).reshape(feats.shape[0], -1, m["grid"], m["grid"])
            obj, kind, colour, depth = det(g)
            out["detected"] = [[[cy, cx, k, c, dep, torch.sigmoid(obj[i, cy, cx]).item()] for cy, cx, k, c, dep in decode(obj[i], kind[i], colour[i], depth[i], d["threshold"])]
                               for i in range(g.shape[0])]
    with open(a.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
