"""Reads and writes the vision package: vision.json + encoder.safetensors + projector.safetensors."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from hf_io import read_safetensors, write_safetensors  # noqa: E402
from vision.model import GRID, IMAGE_SIZE, TOKENS, Encoder, Projector  # noqa: E402

FORMAT = 1


def save_package(out_dir, encoder, projector, *, base_hash, extra=None):
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "encoder.safetensors"), {k: v.detach() for k, v in encoder.tensors().items()})
    write_safetensors(os.path.join(out_dir, "projector.safetensors"), {k: v.detach() for k, v in projector.tensors().items()})
    manifest = {
        "format": FORMAT, "image_size": IMAGE_SIZE, "grid": GRID, "feature_dim": encoder.out.out_channels,
        "feature_limit": encoder.limit, "tokens": TOKENS, "hidden": projector.out.out_features,
        "base_model": base_hash, "encoder": "encoder.safetensors", "projector": "projector.safetensors",
        "encoder_convs": [list(c) for c in encoder.spec],
    }
    manifest.update(extra or {})
    with open(os.path.join(out_dir, "vision.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def load_package(d):
    with open(os.path.join(d, "vision.json")) as f:
        m = json.load(f)
    enc = Encoder(m["feature_dim"], m["feature_limit"], convs=m.get("encoder_convs"))
    enc.load_tensors(read_safetensors(os.path.join(d, m["encoder"])))
    proj = Projector(m["feature_dim"], m["hidden"])
    proj.load_tensors(read_safetensors(os.path.join(d, m["projector"])))
    return m, enc, proj
