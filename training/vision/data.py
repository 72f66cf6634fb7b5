"""The rendered vision dataset (training/vision/render.ts) as tensors.

data/vision/<split>/images.u8: N x 64 x 64 x 3 RGB uint8, top row first; views.jsonl: one line per
image with each grounding prop as the NPC sees it (core/vision/view.ts PropView: kind, colour,
visible, u, v, depth, px, pxWidth, ...)."""
import json
import os
import re

import numpy as np
import torch

def _vocab(name):
    """A word list of core/vision/vocab.ts (the one vocabulary of the questions, labels and scorer)."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "core", "vision", "vocab.ts")
    with open(path) as f:
        m = re.search(rf"export const {name} = \[([^\]]*)\]", f.read())
    if not m:
        raise SystemExit(f"{path}: no `export const {name} = [...]`")
    return re.findall(r'"([^"]+)"', m.group(1))


KINDS = _vocab("KINDS")
COLOURS = _vocab("COLOURS")
GRID = 8
MAX_COUNT = 6


def load_images(split_dir):
    path = os.path.join(split_dir, "images.u8")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % (64 * 64 * 3):
        raise SystemExit(f"{path}: {raw.size} bytes is not a whole number of 64x64 RGB images")
    return torch.from_numpy(raw.reshape(-1, 64, 64, 3)).permute(0, 3, 1, 2).contiguous()  # uint8 (N,3,64,64)


def load_views(split_dir):
    with open(os.path.join(split_dir, "views.jsonl")) as f:
        return [json.loads(l) for l in f if l.strip()]


def props_of(view):
    """The view's props (list of PropView dicts), whatever the record nests them under."""
    for k in ("props", "view", "seen"):
        if k in view and isinstance(view[k], list):
            return view[k]
    raise SystemExit(f"views.jsonl: no prop list in record with keys {sorted(view)}")


def grid_labels(views):
    """Per-cell targets for encoder pretraining:
    obj (N,8,8) 1 where a visible prop's centre falls (the nearest one wins); kind, colour (N,8,8)
    class of that prop (-100 elsewhere); depth (N,8,8) log-depth there; cover (N,32,8,8) multi-hot
    kind x colour over every cell a visible prop's projected box touches; counts (N,4) visible props
    per kind, capped at MAX_COUNT."""
    n = len(views)
    obj = torch.zeros(n, GRID, GRID)
    kind = torch.full((n, GRID, GRID), -100, dtype=torch.long)
    colour = torch.full((n, GRID, GRID), -100, dtype=torch.long)
    depth = torch.zeros(n, GRID, GRID)
    cover = torch.zeros(n, len(KINDS) * len(COLOURS), GRID, GRID)
    counts = torch.zeros(n, len(KINDS), dtype=torch.long)
    for i, v in enumerate(views):
        best = {}
        for p in props_of(v):
            if not p.get("visible"):
                continue
            k, c = KINDS.index(p["kind"]), COLOURS.index(p["colour"])
            counts[i, k] = min(MAX_COUNT, counts[i, k] + 1)
            cx = min(GRID - 1, max(0, int(p["u"] * GRID)))
            cy = min(GRID - 1, max(0, int(p["v"] * GRID)))
            if (cy, cx) not in best or p["depth"] < best[(cy, cx)][2]:
                best[(cy, cx)] = (k, c, p["depth"])
            hw, hh = p.get("pxWidth", 4) / 128.0, p.get("px", 4) / 128.0
            x0, x1 = int(max(0, (p["u"] - hw) * GRID)), int(min(GRID - 1, (p["u"] + hw) * GRID))
            y0, y1 = int(max(0, (p["v"] - hh) * GRID)), int(min(GRID - 1, (p["v"] + hh) * GRID))
            cover[i, k * len(COLOURS) + c, y0 : y1 + 1, x0 : x1 + 1] = 1
        for (cy, cx), (k, c, d) in best.items():
            obj[i, cy, cx] = 1
            kind[i, cy, cx] = k
            colour[i, cy, cx] = c
            depth[i, cy, cx] = float(np.log(max(d, 0.3)))
    return {"obj": obj, "kind": kind, "colour": colour, "depth": depth, "cover": cover, "counts": counts}


def flip_labels(lab):
    """Labels of the mirrored picture (left <-> right)."""
    out = {}
    for k, t in lab.items():
        out[k] = t if k == "counts" else torch.flip(t, dims=[-1])
    return out
