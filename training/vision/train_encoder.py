"""Pretrains the vision encoder on labels from the scene graph (no captions needed): for each cell of
the 8x8 grid, is a prop's centre there, its kind, colour and depth, which kind x colour pairs cover
the cell, and per picture how many props of each kind are in view. The heads are thrown away; what
is kept is an encoder whose features say what is where, which the projector then maps into the
language model.

  /usr/bin/python3 training/vision/train_encoder.py --data=data/vision --minutes=6 --out=training/out/vision
Any default below can be set as --key=value. Progress with an ETA; writes <out>/encoder.pt,
<out>/encoder_metrics.json and a loss curve <out>/encoder_loss.svg."""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from overrides import apply_overrides  # noqa: E402
from plot import write_loss_plot  # noqa: E402
from vision.data import COLOURS, KINDS, MAX_COUNT, flip_labels, grid_labels, load_images, load_views  # noqa: E402
from vision.model import CONVS, Encoder, convs_of  # noqa: E402

DEFAULTS = dict(data="data/vision", out="training/out/vision", minutes=6.0, max_steps=0, batch=64, lr=3e-3,
                feature_dim=64, limit=8.0, seed=1, threads=1, eval_every=100,
                widths=",".join(str(c[1]) for c in CONVS))


class Heads(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.cell = nn.Conv2d(d, 1 + len(KINDS) + len(COLOURS) + 1 + len(KINDS) * len(COLOURS), 1)
        self.count = nn.Linear(d, len(KINDS) * (MAX_COUNT + 1))

    def forward(self, g):
        c = self.cell(g)
        nk, nc = len(KINDS), len(COLOURS)
        obj, kind, colour, depth, cover = torch.split(c, [1, nk, nc, 1, nk * nc], dim=1)
        counts = self.count(g.mean(dim=(2, 3))).view(-1, nk, MAX_COUNT + 1)
        return obj[:, 0], kind, colour, depth[:, 0], cover, counts


def losses(heads, g, lab):
    obj, kind, colour, depth, cover, counts = heads(g)
    at = lab["obj"] > 0
    l_obj = F.binary_cross_entropy_with_logits(obj, lab["obj"], pos_weight=torch.tensor(8.0))
    l_kind = F.cross_entropy(kind, lab["kind"], ignore_index=-100) if at.any() else obj.sum() * 0
    l_col = F.cross_entropy(colour, lab["colour"], ignore_index=-100) if at.any() else obj.sum() * 0
    l_depth = (F.l1_loss(depth[at], lab["depth"][at]) if at.any() else obj.sum() * 0)
    l_cover = F.binary_cross_entropy_with_logits(cover, lab["cover"], pos_weight=torch.tensor(4.0))
    l_count = F.cross_entropy(counts.reshape(-1, MAX_COUNT + 1), lab["counts"].reshape(-1))
    total = l_obj + l_kind + l_col + 0.5 * l_depth + l_cover + l_count
    return total, dict(obj=l_obj.item(), kind=l_kind.item(), colour=l_col.item(), depth=l_depth.item(), cover=l_cover.item(), count=l_count.item())


@torch.no_grad()
def evaluate(enc, heads, images, lab):
    """Held-out: per-picture presence of each kind x colour (max over cells of cover > 0.5) and
    exact counts per kind."""
    enc.eval()
    tp = fp = fn = 0
    count_ok = count_n = 0
    for s in range(0, len(images), 256):
        x = images[s : s + 256].float() / 255
        g = enc.grid(x)
        _, _, _, _, cover, counts = heads(g)
        pred = cover.amax(dim=(2, 3)) > 0
        true = lab["cover"][s : s + 256].amax(dim=(2, 3)) > 0.5
        tp += (pred & true).sum().item(); fp += (pred & ~true).sum().item(); fn += (~pred & true).sum().item()
        count_ok += (counts.argmax(-1) == lab["counts"][s : s + 256]).sum().item()
        count_n += counts.shape[0] * counts.shape[1]
    enc.train()
    prec = tp / max(1, tp + fp); rec = tp / max(1, tp + fn)
    return dict(presence_precision=round(prec, 4), presence_recall=round(rec, 4),
                presence_f1=round(2 * prec * rec / max(1e-9, prec + rec), 4), count_accuracy=round(count_ok / max(1, count_n), 4))


def main():
    cfg = dict(DEFAULTS)
    apply_overrides(cfg, list(cfg), sys.argv[1:])
    torch.manual_seed(cfg["seed"])
    torch.set_num_threads(int(cfg["threads"]))
    os.makedirs(cfg["out"], exist_ok=True)
    tr_dir, ho_dir = os.path.join(cfg["data"], "train"), os.path.join(cfg["data"], "heldout")
    images, views = load_images(tr_dir), load_views(tr_dir)
    if len(images) != len(views):
        raise SystemExit(f"{tr_dir}: {len(images)} images but {len(views)} views")
    lab = grid_labels(views)
    ho_images, ho_lab = load_images(ho_dir), grid_labels(load_views(ho_dir))
    print(f"[encoder] {len(images)} train pictures, {len(ho_images)} held-out; cells with a prop: {int(lab['obj'].sum())}", flush=True)

    cfg["convs"] = convs_of(cfg["widths"])
    enc = Encoder(int(cfg["feature_dim"]), float(cfg["limit"]), batchnorm=True, convs=cfg["convs"])
    heads = Heads(int(cfg["feature_dim"]))
    params = list(enc.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=float(cfg["lr"]), weight_decay=1e-4)
    budget = float(cfg["minutes"]) * 60
    max_steps = int(cfg["max_steps"]) or 10**9
    t0 = time.time(); step = 0; last = t0
    curve = []
    g = torch.Generator().manual_seed(int(cfg["seed"]))
    planned = max_steps
    while step < max_steps:
        elapsed = time.time() - t0
        if max_steps == 10**9 and elapsed >= budget:
            break
        if step >= 20 and max_steps == 10**9:
            planned = max(step + 1, int(budget / (elapsed / step)))
        if step >= planned:
            break
        lr = float(cfg["lr"]) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, planned)))))
        for pg in opt.param_groups:
            pg["lr"] = lr
        idx = torch.randint(0, len(images), (int(cfg["batch"]),), generator=g)
        x = images[idx].float() / 255
        # light jitter: brightness and a mirrored half (labels mirrored too)
        x = (x * (0.8 + 0.4 * torch.rand(len(idx), 1, 1, 1, generator=g))).clamp(0, 1)
        b = {k: v[idx] for k, v in lab.items()}
        flip = torch.rand(len(idx), generator=g) < 0.5
        if flip.any():
            x[flip] = torch.flip(x[flip], dims=[-1])
            fl = flip_labels({k: v[flip] for k, v in b.items()})
            for k in b:
                b[k] = b[k].clone(); b[k][flip] = fl[k]
        loss, parts = losses(heads, enc.grid(x), b)
        opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step()
        step += 1
        curve.append({"step": step, "loss": round(loss.item(), 4), **{k: round(v, 4) for k, v in parts.items()}})
        if time.time() - last > 10 or step == 1:
            last = time.time()
            el = last - t0
            total = min(planned, max_steps)
            eta = f"{el / step * (total - step):.0f}s" if total < 10**9 else "? (timing the first steps)"
            print(f"[encoder] step {step}/{total if total < 10**9 else '?'} loss {loss.item():.3f} ({', '.join(f'{k} {v:.2f}' for k, v in parts.items())}) {el:.0f}s ETA {eta}", flush=True)
        if step % int(cfg["eval_every"]) == 0:
            m = evaluate(enc, heads, ho_images, ho_lab)
            curve[-1]["heldout"] = m
            print(f"[encoder] held-out {m}", flush=True)
    plain = enc.folded()
    metrics = evaluate(plain, heads, ho_images, ho_lab)
    metrics.update(steps=step, seconds=round(time.time() - t0, 1), train_pictures=len(images), heldout_pictures=len(ho_images))
    print(f"[encoder] done: {json.dumps(metrics)}", flush=True)
    torch.save({"encoder": plain.state_dict(), "heads": heads.state_dict(), "cfg": cfg, "metrics": metrics}, os.path.join(cfg["out"], "encoder.pt"))
    with open(os.path.join(cfg["out"], "encoder_metrics.json"), "w") as f:
        json.dump({"metrics": metrics, "curve": curve}, f)
    write_loss_plot([{"step": c["step"], "train_loss": c["loss"]} for c in curve], os.path.join(cfg["out"], "encoder_loss"), "vision encoder pretraining")
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
