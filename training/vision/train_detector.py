"""Trains the vision package's prop detector: a small head on the package's own (frozen) encoder
features that says, per cell of the 8x8 grid, whether a visible prop's centre is there, its kind,
colour and depth. The server turns its output into the sight lines the `skill-sight` pack reads
(core/vision/detector.ts decodes it the same way as `decode` below), so the eyes can answer
questions about props without the language model having learnt to read visual tokens.

  /usr/bin/python3 training/vision/train_detector.py --package=assets/vision --data=data/vision --minutes=6
  ... --install=1      # also writes <package>/detector.safetensors and its entry in vision.json
  ... --train_encoder=1 --enc_lr=5e-4   # the encoder learns too (end to end from the pictures);
                       # --install then also writes <package>/encoder.safetensors
  ... --train_splits=train,train2      # several rendered training splits (default: train)
  ... --val_split=val                  # the decision threshold is chosen on this split (rendered for
                       # it, vision:render --split val --seed 4243), the held-out figures are then
                       # measured at that threshold; without it, both come from the held-out split
  ... --fresh=1 --widths=32,64,96,128,128 --lr=2e-3 --enc_lr=2e-3
                       # a new, wider encoder learns from scratch with the head (BatchNorm while it
                       # trains, folded into its convolutions when it ships; see below)

Net: features (64, D) as a (D, 8, 8) grid -> 3x3 conv (D -> hidden) -> ReLU -> 3x3 conv (hidden ->
hidden) -> ReLU -> 1x1 conv (hidden -> 1 + kinds + colours + 1): object logit, kind logits, colour
logits, log-depth. Trained on the features of the training pictures and of their mirror images
(labels mirrored). The decision threshold is the one with the best object-level F1 on --val_split
(or, without one, on the held-out split); a prediction counts when a visible prop of that kind and colour has its centre within one
cell of it. Progress with an ETA; writes <out>/detector.pt, detector_metrics.json, a loss curve.

With --train_encoder=1 the package's encoder is trained with the head, from the pictures (each
batch a random half mirrored): the features become the detector's. The projector was trained on
the old features, so its visual tokens no longer mean what they did; the package's recorded
grounding figures must be measured again (eval:grounding --record), which the server's choice of
eyes or scene graph reads (core/vision/manifest.ts readsViews).

With --fresh=1 the package's encoder is replaced: a new one of --widths (five output widths, the
package's feature width kept) trains from scratch with BatchNorm after each convolution, which
learns many times faster than the plain chain; `Encoder.folded()` folds each BatchNorm into its
convolution for the shipped weights, and --install writes the new widths to vision.json
"encoder_convs" (the browser and server build their ONNX graph from them). The held-out figures
are measured on the folded encoder, as it ships. Convolutions run channels-last (about twice as
fast on CPU)."""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from hf_io import read_safetensors, write_safetensors  # noqa: E402
from overrides import apply_overrides  # noqa: E402
from plot import write_loss_plot  # noqa: E402
from vision.data import COLOURS, GRID, KINDS, flip_labels, grid_labels, load_images, load_views, props_of  # noqa: E402
from vision.model import Encoder, convs_of  # noqa: E402
from vision.package import load_package  # noqa: E402

DEFAULTS = dict(package="assets/vision", data="data/vision", out="training/out/vision", minutes=6.0, max_steps=0,
                batch=128, lr=2e-3, hidden=64, seed=1, threads=1, eval_every=200, install=0,
                train_encoder=0, enc_lr=5e-4, train_splits="train", val_split="", fresh=0, widths="")
NK, NC = len(KINDS), len(COLOURS)


class Detector(nn.Module):
    def __init__(self, feature_dim, hidden):
        super().__init__()
        self.c1 = nn.Conv2d(feature_dim, hidden, 3, padding=1)
        self.c2 = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.out = nn.Conv2d(hidden, 1 + NK + NC + 1, 1)

    def forward(self, g):
        """g (B, D, 8, 8) -> object (B,8,8), kind (B,K,8,8), colour (B,C,8,8), log-depth (B,8,8)."""
        x = F.relu(self.c2(F.relu(self.c1(g))))
        obj, kind, colour, depth = torch.split(self.out(x), [1, NK, NC, 1], dim=1)
        return obj[:, 0], kind, colour, depth[:, 0]

    def tensors(self):
        return {f"{n}.{p}": getattr(getattr(self, n), p) for n in ("c1", "c2", "out") for p in ("weight", "bias")}


@torch.no_grad()
def features_of(enc, images):
    """Encoder grid (N, D, 8, 8) of uint8 pictures, in batches."""
    out = []
    for s in range(0, len(images), 512):
        out.append(enc.grid(channels_last(images[s : s + 512].float() / 255)).contiguous())
    return torch.cat(out)


def channels_last(x):
    return x.contiguous(memory_format=torch.channels_last)


def losses(det, g, lab):
    obj, kind, colour, depth = det(g)
    at = lab["obj"] > 0
    l_obj = F.binary_cross_entropy_with_logits(obj, lab["obj"], pos_weight=torch.tensor(4.0))
    zero = obj.sum() * 0
    l_kind = F.cross_entropy(kind, lab["kind"], ignore_index=-100) if at.any() else zero
    l_col = F.cross_entropy(colour, lab["colour"], ignore_index=-100) if at.any() else zero
    l_depth = F.l1_loss(depth[at], lab["depth"][at]) if at.any() else zero
    total = l_obj + l_kind + l_col + 0.5 * l_depth
    return total, dict(obj=l_obj.item(), kind=l_kind.item(), colour=l_col.item(), depth=l_depth.item())


def decode(obj, kind, colour, depth, threshold):
    """One picture's outputs -> [(cy, cx, kind, colour, depth m)], a cell kept when its object
    probability passes `threshold` and no neighbour (3x3) that reads as the same kind and colour is
    more likely. A quarter of the props in view stand in the next cell to another; suppressing every
    weaker neighbour lost one of each such pair (recall 0.74 -> 0.82 on the held-out split)."""
    p = torch.sigmoid(obj)
    label = kind.argmax(0) * len(COLOURS) + colour.argmax(0)
    G = p.shape[0]
    out = []
    for cy, cx in (p >= threshold).nonzero().tolist():
        stronger_same = any(0 <= cy + dy < G and 0 <= cx + dx < G and p[cy + dy, cx + dx] > p[cy, cx] and label[cy + dy, cx + dx] == label[cy, cx]
                            for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        if not stronger_same:
            out.append((cy, cx, KINDS[kind[:, cy, cx].argmax().item()], COLOURS[colour[:, cy, cx].argmax().item()], math.exp(depth[cy, cx].item())))
    return out


def truth(view):
    out = []
    for p in props_of(view):
        if p.get("visible"):
            out.append((min(GRID - 1, max(0, int(p["v"] * GRID))), min(GRID - 1, max(0, int(p["u"] * GRID))), p["kind"], p["colour"]))
    return out


@torch.no_grad()
def evaluate(det, g, views, thresholds=(0.3, 0.4, 0.5, 0.6, 0.7), at=None):
    """Object-level precision / recall / F1 at each threshold (a prediction matches an unmatched
    visible prop of the same kind and colour whose centre cell is within one cell), and the best,
    or the figures at `at` when a threshold was chosen elsewhere (on the validation split)."""
    det.eval()
    obj, kind, colour, depth = det(g)
    det.train()
    rows = {}
    for t in thresholds:
        tp = fp = fn = 0
        kind_ok = n_pos = 0
        for i, v in enumerate(views):
            pred = decode(obj[i], kind[i], colour[i], depth[i], t)
            true = truth(v)
            used = [False] * len(true)
            for cy, cx, k, c, _ in pred:
                hit = next((j for j, (ty, tx, tk, tc) in enumerate(true) if not used[j] and tk == k and tc == c and abs(ty - cy) <= 1 and abs(tx - cx) <= 1), None)
                if hit is None:
                    fp += 1
                else:
                    used[hit] = True
                    tp += 1
            fn += used.count(False)
            for cy, cx, k, _, _ in pred:
                if any(abs(ty - cy) <= 1 and abs(tx - cx) <= 1 for ty, tx, _, _ in true):
                    n_pos += 1
                    kind_ok += any(abs(ty - cy) <= 1 and abs(tx - cx) <= 1 and tk == k for ty, tx, tk, _ in true)
        prec, rec = tp / max(1, tp + fp), tp / max(1, tp + fn)
        rows[t] = dict(precision=round(prec, 4), recall=round(rec, 4), f1=round(2 * prec * rec / max(1e-9, prec + rec), 4),
                       kind_accuracy_at_props=round(kind_ok / max(1, n_pos), 4))
    best = at if at is not None else max(rows, key=lambda t: rows[t]["f1"])
    return dict(threshold=best, **rows[best], by_threshold={str(k): v for k, v in rows.items()})


def main():
    cfg = dict(DEFAULTS)
    apply_overrides(cfg, list(cfg), sys.argv[1:])
    torch.manual_seed(int(cfg["seed"]))
    torch.set_num_threads(int(cfg["threads"]))
    os.makedirs(cfg["out"], exist_ok=True)
    manifest, enc, _ = load_package(cfg["package"])
    fresh = bool(int(cfg["fresh"]))
    if fresh:
        # A new encoder of the given widths (default: the package's), BatchNorm while it trains.
        convs = convs_of(cfg["widths"]) if str(cfg["widths"]) else enc.spec
        enc = Encoder(manifest["feature_dim"], manifest["feature_limit"], batchnorm=True, convs=convs)
    enc = enc.to(memory_format=torch.channels_last)
    enc.eval()
    tune = fresh or bool(int(cfg["train_encoder"]))
    # --train_splits=train,train2: more rendered splits train together (the held-out split stays one).
    tr_dirs = [os.path.join(cfg["data"], s.strip()) for s in str(cfg["train_splits"]).split(",") if s.strip()]
    ho_dir = os.path.join(cfg["data"], "heldout")
    parts = [(load_images(d), load_views(d)) for d in tr_dirs]
    if any(len(i) != len(v) for i, v in parts):
        raise SystemExit(f"{cfg['data']}: pictures and views.jsonl lines differ in number")
    images, views = torch.cat([i for i, _ in parts]), [v for _, vs in parts for v in vs]
    ho_images, ho_views = load_images(ho_dir), load_views(ho_dir)
    if len(ho_images) != len(ho_views):
        raise SystemExit(f"{ho_dir}: pictures and views.jsonl lines differ in number")
    val_dir = os.path.join(cfg["data"], str(cfg["val_split"])) if str(cfg["val_split"]) else None
    val_images, val_views = (load_images(val_dir), load_views(val_dir)) if val_dir else (None, None)
    if val_dir and len(val_images) != len(val_views):
        raise SystemExit(f"{val_dir}: pictures and views.jsonl lines differ in number")
    t0 = time.time()
    # The training pictures and their mirror images (labels mirrored).
    lab = grid_labels(views)
    fl = flip_labels(lab)
    lab = {k: torch.cat([lab[k], fl[k]]) for k in ("obj", "kind", "colour", "depth")}
    # Frozen encoder: the features of every picture and its mirror image, once. Trained: index i < N
    # is picture i, i >= N its mirror image, encoded each step.
    g = None if tune else torch.cat([features_of(enc, images), features_of(enc, torch.flip(images, dims=[-1]))])
    ho_g = features_of(enc, ho_images)

    def heldout_features():
        """The held-out grid with the encoder as it is now (trained: in eval mode, then back)."""
        if not tune:
            return ho_g
        enc.eval()
        g_now = features_of(enc, ho_images)
        enc.train()
        return g_now

    def batch_features(idx):
        if not tune:
            return g[idx]
        n = len(images)
        pics = images[idx % n].float() / 255
        mirror = idx >= n
        pics[mirror] = torch.flip(pics[mirror], dims=[-1])
        return enc.grid(channels_last(pics))
    print(f"[detector] {len(images)} training pictures (x2 mirrored), {len(ho_images)} held-out; features in {time.time() - t0:.0f}s", flush=True)

    det = Detector(manifest["feature_dim"], int(cfg["hidden"]))
    shipped = manifest.get("detector")
    if tune and not fresh and shipped and int(shipped["hidden"]) == int(cfg["hidden"]):
        # Fine-tuning the encoder starts from the package's head, which already reads its features.
        t = read_safetensors(os.path.join(cfg["package"], shipped["file"]))
        with torch.no_grad():
            for k, p in det.tensors().items():
                p.copy_(t[k])
        print(f"[detector] head starts from {cfg['package']}/{shipped['file']}", flush=True)
    groups = [{"params": list(det.parameters()), "base": float(cfg["lr"])}]
    if tune:
        enc.train()
        groups.append({"params": list(enc.parameters()), "base": float(cfg["enc_lr"])})
    opt = torch.optim.AdamW(groups, lr=float(cfg["lr"]), weight_decay=1e-4)
    budget, max_steps = float(cfg["minutes"]) * 60, int(cfg["max_steps"]) or 10**9
    gen = torch.Generator().manual_seed(int(cfg["seed"]))
    t0 = last = time.time()
    step, planned, curve = 0, max_steps, []
    while step < min(planned, max_steps):
        el = time.time() - t0
        if max_steps == 10**9:
            if el >= budget:
                break
            if step >= 20:
                planned = max(step + 1, int(budget / (el / step)))
        scale = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, planned))))
        for pg in opt.param_groups:
            pg["lr"] = pg["base"] * scale
        idx = torch.randint(0, 2 * len(images), (int(cfg["batch"]),), generator=gen)
        loss, parts = losses(det, batch_features(idx), {k: v[idx] for k, v in lab.items()})
        opt.zero_grad(); loss.backward(); opt.step()
        step += 1
        curve.append({"step": step, "train_loss": round(loss.item(), 4)})
        if time.time() - last > 10 or step == 1:
            last = time.time(); el = last - t0
            total = min(planned, max_steps)
            print(f"[detector] step {step}/{total if total < 10**9 else '?'} loss {loss.item():.3f} "
                  f"({', '.join(f'{k} {v:.2f}' for k, v in parts.items())}) {el:.0f}s ETA {f'{el / step * (total - step):.0f}s' if total < 10**9 else '?'}", flush=True)
        if step % int(cfg["eval_every"]) == 0:
            m = evaluate(det, heldout_features(), ho_views)  # (fresh: BatchNorm in eval mode = the folded encoder)
            curve[-1]["heldout_f1"] = m["f1"]
            print(f"[detector] held-out: threshold {m['threshold']} precision {m['precision']} recall {m['recall']} F1 {m['f1']}", flush=True)
    enc.eval()
    if fresh:
        enc = enc.folded()  # what ships: each BatchNorm folded into its convolution
    chosen = None
    if val_dir:
        val = evaluate(det, features_of(enc, val_images), val_views)
        chosen = val["threshold"]
        print(f"[detector] threshold {chosen} chosen on {cfg['val_split']} (F1 {val['f1']} there)", flush=True)
    metrics = evaluate(det, features_of(enc, ho_images), ho_views, at=chosen)
    if val_dir:
        metrics["threshold_from"] = f"{cfg['val_split']} ({len(val_images)} pictures, F1 {val['f1']})"
    metrics.update(encoder_trained=tune, encoder_fresh=fresh, encoder_convs=[list(c) for c in enc.spec], steps=step, seconds=round(time.time() - t0, 1), train_pictures=len(images), heldout_pictures=len(ho_images), hidden=int(cfg["hidden"]))
    print(f"[detector] done: {json.dumps({k: v for k, v in metrics.items() if k != 'by_threshold'})}", flush=True)
    torch.save({"detector": det.state_dict(), "cfg": cfg, "metrics": metrics, **({"encoder": enc.state_dict()} if tune else {})}, os.path.join(cfg["out"], "detector.pt"))
    with open(os.path.join(cfg["out"], "detector_metrics.json"), "w") as f:
        json.dump({"metrics": metrics, "curve": curve}, f)
    write_loss_plot(curve, os.path.join(cfg["out"], "detector_loss"), "prop detector")
    if int(cfg["install"]):
        write_safetensors(os.path.join(cfg["package"], "detector.safetensors"), {k: v.detach() for k, v in det.tensors().items()})
        path = os.path.join(cfg["package"], "vision.json")
        with open(path) as f:
            m = json.load(f)
        if tune:
            write_safetensors(os.path.join(cfg["package"], m["encoder"]), {k: v.detach() for k, v in enc.tensors().items()})
            # The recorded grounding figures were the old encoder's: measure again (eval:grounding --record).
            m.pop("grounding", None); m.pop("grounding_tokens", None)
            m["encoder_convs"] = [list(c) for c in enc.spec]
            m.setdefault("metrics", {})["encoder_with_detector"] = {"steps": step, "seconds": metrics["seconds"], "enc_lr": float(cfg["enc_lr"]), "fresh": fresh}
        # Other entries (look_threshold) stay; the figures before are kept for the record.
        before = m.get("detector", {})
        m["detector"] = {**{k: v for k, v in before.items() if k not in ("heldout_before",)},
                         "file": "detector.safetensors", "hidden": int(cfg["hidden"]), "threshold": metrics["threshold"],
                         "heldout": {k: metrics[k] for k in ("precision", "recall", "f1")},
                         **({"heldout_before": before["heldout"]} if "heldout" in before else {}),
                         **({"threshold_from": metrics["threshold_from"]} if "threshold_from" in metrics else {})}
        with open(path, "w") as f:
            json.dump(m, f, indent=2)
            f.write("\n")
        print(f"[detector] installed in {cfg['package']}", flush=True)
    print(json.dumps({k: v for k, v in metrics.items() if k != "by_threshold"}))


if __name__ == "__main__":
    main()
