"""Train the combination gate: an MLP from a cheap summary of the request to the mood adapters.

    /usr/bin/python3 training/train_gate.py [--key=value ...]          (defaults below)

Format (adapters/README.md, core/runtime/gate/gate.ts): features x = [mean of the prompt's token
embeddings from the base model (H), time_sin, time_cos, threat, standing]; h = relu(w1·x + b1);
logits = w2·h + b2 over `outputs` (the mood pack ids); the runtime's weights are
strength × softmax(logits / temperature) over the moods the card allows.

Labels: each sample's mood (the mood its reply was written in). Game features, derived as the
server derives them (server/dialogue: clock, the room's threat flag, MemoryStore.standing):
  threat    1 when the sample's state line is a danger ("danger: wolves at the south gate"; the
            data engine writes exactly that when something threatens the NPC), else 0;
  time      the hour a state line names (morning 9, noon 12, afternoon 15, evening 19, dusk 20,
            night 23, dawn 6, midnight 0), else uniform random — the data has no clock, so the gate
            learns not to lean on it;
  standing  the data's memory lines hold no standing (only "The player is called X."), and no
            sample's mood depends on it, so it is drawn uniform in [-1, 1]: the gate learns to
            ignore it rather than read noise from untrained weights.
(`game_state` below; training/eval/gate-eval.ts derives the same for held-out samples.)
The embedding part is standardised for training (mean/std over the training set) and the
standardisation is folded into w1, b1 on export, so the runtime needs nothing extra.
Writes <out>/gate.json + gate.safetensors, training/results/gate.json (accuracy, per-mood recall,
confusion) and, with --parity_out, features and PyTorch logits for a parity test.
"""
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overrides import apply_overrides, config_keys  # noqa: E402
from hf_io import read_safetensors, write_safetensors  # noqa: E402
from lora import base_model_hash  # noqa: E402

# ---- defaults (override with --key=value) ----
model = "assets/model"
train_data = "data/train"  # prefix: .ids.u16/.mask.u8/.offsets.u32/.meta.json + .jsonl (state lines)
val_data = "data/heldout"
adapters_dir = "adapters"
out = "adapters/gate"
results = "training/results/gate.json"
hidden = 64
lr = 3e-3
weight_decay = 0.01
input_dropout = 0.2  # dropout on the standardised features while training
line_token_dropout = 0.0  # "prompt+line": each epoch the line mean is taken over a random subset of its tokens
                          # (each kept with 1 - this, at least one), so single words carry the signal on their own
class_power = 0.0  # loss weight per mood = (count)^-class_power, normalised (0 = plain cross-entropy)
batch_size = 512
epochs = 10
minutes = 3.0  # stops early when spent
max_train = 0  # 0 = every training sample
val_samples = 4000
temperature = 1.0
strength = 0.8
seed = 1
threads = 1
summary_features = "prompt+line"  # "prompt": mean prompt embedding only (kith-gate-1); "prompt+line": also the mean of the player's last line
line_start_id = 6  # <|player|>
line_end_id = 8  # <|end|>
word_cues = "angry,sad,cheerful"  # moods whose word lists (words_file) share the decision when the player's line matches; "" = none
cue_share = 0.5  # a matching cue's share of the mood distribution (gate.json word_cues.share)
words_file = "core/runtime/gate/mood-words.json"
parity_out = ""  # path: write features + logits of 16 held-out samples (for the runtime parity test)
# ----

CONFIG_KEYS = config_keys(globals())
GAME_FEATURES = ["time_sin", "time_cos", "threat", "standing"]
HOURS = [("midnight", 0), ("dawn", 6), ("morning", 9), ("noon", 12), ("midday", 12), ("afternoon", 15),
         ("evening", 19), ("dusk", 20), ("night", 23)]


def parse_overrides(argv):
    apply_overrides(globals(), CONFIG_KEYS, argv)


def state_hour(state):
    """The hour a state line names, or None."""
    s = state.lower()
    for word, h in HOURS:
        if re.search(rf"\b{word}\b", s):
            return h
    return None


def state_threat(state):
    return 1.0 if re.match(r"\s*danger\b", state, re.I) else 0.0


def game_state(states, rng):
    """states: list of state lines -> (N, 4) float32 [time_sin, time_cos, threat, standing]."""
    out = np.zeros((len(states), 4), dtype=np.float32)
    for i, s in enumerate(states):
        h = state_hour(s)
        if h is None:
            h = rng.uniform(0, 24)
        a = 2 * math.pi * h / 24
        out[i] = (math.sin(a), math.cos(a), state_threat(s), rng.uniform(-1, 1))
    return out


def read_fields(jsonl, n, fields):
    """Those string fields (`state`, `say`, …) of each line, one list per field, in one pass (a regex,
    not a full JSON parse: the file is ~280 MB)."""
    pats = [re.compile(rf'"{f}":"((?:[^"\\]|\\.)*)"') for f in fields]
    out = [[] for _ in fields]
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            for pat, vals in zip(pats, out):
                m = pat.search(line)
                vals.append(json.loads(f'"{m.group(1)}"') if m else "")
    if len(out[0]) != n:
        raise SystemExit(f"{jsonl}: {len(out[0])} lines but the tokenized files hold {n} samples; re-run npm run tokenize")
    return out


def load_cues(moods):
    """{mood: regex source} for `moods`, in that order, from words_file (the rule gate's lists)."""
    lists = json.load(open(words_file, encoding="utf-8"))
    missing = [m for m in moods if m not in lists]
    if missing:
        raise SystemExit(f"{words_file}: no word list for {', '.join(missing)}")
    return {m: lists[m] for m in moods}


def with_cues(probs, says, cues, outputs, share):
    """The runtime's blend (core/runtime/gate/gate.ts): where the line matches a cue (first in order),
    probs = (1 - share) · probs + share · one-hot(that mood)."""
    out = probs.clone()
    pats = [(outputs.index(f"mood-{m}"), re.compile(p, re.I)) for m, p in cues.items() if f"mood-{m}" in outputs]
    for r, text in enumerate(says):
        for k, pat in pats:
            if pat.search(text):
                out[r] *= 1 - share
                out[r, k] += share
                break
    return out


def last_line(p):
    """Token ids of the player's last line in prompt ids `p`: after the last <|player|>, up to its <|end|>."""
    starts = np.flatnonzero(p == line_start_id)
    if len(starts) == 0:
        return p[-1:]
    s = int(starts[-1]) + 1
    ends = np.flatnonzero(p[s:] == line_end_id)
    e = s + int(ends[0]) if len(ends) else len(p)
    return p[s:e] if e > s else p[s - 1 : s]


def line_tokens(prefix, idx):
    """(flat ids, offsets) of the player's last line of each sample, for the line-dropout augmentation."""
    ids = np.memmap(prefix + ".ids.u16", dtype="<u2", mode="r")
    mask = np.memmap(prefix + ".mask.u8", dtype="u1", mode="r")
    offs = np.fromfile(prefix + ".offsets.u32", dtype="<u4").astype(np.int64)
    flat, starts, n = [], [], 0
    for i in idx:
        a, b = offs[i], offs[i + 1]
        p = int(np.argmax(mask[a:b] == 1))
        t = last_line(np.asarray(ids[a : a + p], dtype=np.int64))
        starts.append(n)
        flat.append(t)
        n += len(t)
    return torch.from_numpy(np.concatenate(flat)), torch.tensor(starts + [n])


def dropped_line_means(emb, flat, offs, p, g):
    """Mean embedding of a random subset of each line's tokens (each kept with 1 - p; the first kept if none)."""
    keep = (torch.rand(len(flat), generator=g) >= p).float()
    first = torch.zeros(len(flat))
    first[offs[:-1]] = 1.0
    counts = torch.zeros(len(offs) - 1).index_add_(0, torch.repeat_interleave(torch.arange(len(offs) - 1), offs[1:] - offs[:-1]), keep)
    none = counts == 0
    keep = torch.where(none.repeat_interleave(offs[1:] - offs[:-1]), first, keep)
    counts = torch.where(none, torch.ones_like(counts), counts)
    s = F.embedding_bag(flat, emb, offs[:-1], mode="sum", per_sample_weights=keep)
    return s / counts[:, None]


def prompt_means(prefix, emb, idx, line=False):
    """Mean embedding of each sample's prompt tokens (those before the reply: mask 0 up to the first 1);
    with `line`, of the player's last line within the prompt instead."""
    ids = np.memmap(prefix + ".ids.u16", dtype="<u2", mode="r")
    mask = np.memmap(prefix + ".mask.u8", dtype="u1", mode="r")
    offs = np.fromfile(prefix + ".offsets.u32", dtype="<u4").astype(np.int64)
    out = torch.empty(len(idx), emb.shape[1])
    for c in range(0, len(idx), 4096):
        chunk = idx[c : c + 4096]
        flat, starts = [], []
        n = 0
        for i in chunk:
            a, b = offs[i], offs[i + 1]
            p = int(np.argmax(mask[a:b] == 1))  # first reply token = prompt length
            starts.append(n)
            toks = np.asarray(ids[a : a + p], dtype=np.int64)
            if line:
                toks = last_line(toks)
            flat.append(toks)
            n += len(toks)
        out[c : c + len(chunk)] = F.embedding_bag(torch.from_numpy(np.concatenate(flat)), emb, torch.tensor(starts), mode="mean")
    return out


class Gate(nn.Module):
    def __init__(self, f, h, k):
        super().__init__()
        self.l1, self.l2 = nn.Linear(f, h), nn.Linear(h, k)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))


def main():
    parse_overrides(sys.argv[1:])
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    t0 = time.time()
    emb = read_safetensors(os.path.join(model, "model.safetensors"))["model.embed_tokens.weight"].float()
    H = emb.shape[1]
    cards = [json.load(open(os.path.join(adapters_dir, d, "character.json"))) for d in sorted(os.listdir(adapters_dir))
             if os.path.exists(os.path.join(adapters_dir, d, "character.json"))]
    outputs = sorted({m for c in cards for m in c["adapters"]["moods"]})
    if not outputs:
        raise SystemExit(f"{adapters_dir}: no card allows a mood adapter; nothing for the gate to choose")
    label_of = {o: k for k, o in enumerate(outputs)}

    def split(prefix, limit):
        moods = json.load(open(prefix + ".meta.json"))["columns"]["mood"]
        n = len(moods)
        idx = np.arange(n) if not limit or limit >= n else np.sort(rng.choice(n, limit, replace=False))
        y = np.array([label_of.get(f"mood-{moods[i]}", -1) for i in idx])
        keep = y >= 0  # a mood no card has a pack for is not a gate output
        idx, y = idx[keep], y[keep]
        states, says = read_fields(prefix + ".jsonl", n, ("state", "say"))
        g = game_state([states[i] for i in idx], rng)
        parts = [prompt_means(prefix, emb, idx)]
        if summary_features == "prompt+line":
            parts.append(prompt_means(prefix, emb, idx, line=True))
        x = torch.cat(parts + [torch.from_numpy(g)], 1)
        return idx, x, torch.from_numpy(y), [says[i] for i in idx]

    cues = load_cues([m for m in word_cues.split(",") if m]) if word_cues else {}
    tidx, xt, yt, _ = split(train_data, max_train)
    vidx, xv, yv, vsays = split(val_data, val_samples)
    S = xt.shape[1] - 4  # summary width: H or 2H
    print(f"features: {len(yt)} train, {len(yv)} held-out samples, {S}+4 wide; {time.time() - t0:.0f} s", flush=True)
    counts = torch.bincount(yt, minlength=len(outputs))
    print("train moods: " + ", ".join(f"{o} {int(c)}" for o, c in zip(outputs, counts)), flush=True)

    # Standardise the embedding part (folded into w1, b1 on export).
    mu = torch.zeros(S + 4)
    sd = torch.ones(S + 4)
    mu[:S] = xt[:, :S].mean(0)
    sd[:S] = xt[:, :S].std(0).clamp(min=1e-6)
    norm = lambda x: (x - mu) / sd  # noqa: E731

    cw = counts.float().clamp(min=1) ** -class_power
    cw = cw / (cw * counts.float()).sum() * counts.sum()  # mean weight over the training samples = 1
    net = Gate(S + 4, hidden, len(outputs))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    xtn, xvn = norm(xt), norm(xv)
    steps_per_epoch = math.ceil(len(yt) / batch_size)
    total = epochs * steps_per_epoch
    history, step = [], 0
    g = torch.Generator().manual_seed(seed)
    aug = summary_features == "prompt+line" and line_token_dropout > 0
    if aug:
        lflat, loffs = line_tokens(train_data, tidx)
    for ep in range(epochs):
        perm = torch.randperm(len(yt), generator=g)
        net.train()
        if aug:
            xa = xt.clone()
            xa[:, H : 2 * H] = dropped_line_means(emb, lflat, loffs, line_token_dropout, g)
            xtn = norm(xa)
        tl = 0.0
        for b in range(steps_per_epoch):
            j = perm[b * batch_size : (b + 1) * batch_size]
            for gr in opt.param_groups:
                gr["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / total))
            loss = F.cross_entropy(net(F.dropout(xtn[j], input_dropout, True)), yt[j], weight=cw)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tl += float(loss)
            step += 1
        net.eval()
        with torch.no_grad():
            lv = net(xvn)
            vl = float(F.cross_entropy(lv, yv))
            acc = float((lv.argmax(1) == yv).float().mean())
        history.append({"step": step, "train_loss": tl / steps_per_epoch, "val_loss": vl, "val_acc": acc})
        el = time.time() - t0
        print(f"epoch {ep + 1}/{epochs} loss {tl / steps_per_epoch:.4f} held-out loss {vl:.4f} acc {acc:.4f} "
              f"{el:.0f} s ETA {el / (ep + 1) * (epochs - ep - 1):.0f} s", flush=True)
        if time.time() - t0 > minutes * 60:
            print(f"time budget reached after epoch {ep + 1}", flush=True)
            break

    # Fold the standardisation into the first layer: w1·((x-mu)/sd) + b1 = (w1/sd)·x + (b1 - (w1/sd)·mu).
    with torch.no_grad():
        w1 = net.l1.weight / sd[None, :]
        b1 = net.l1.bias - w1 @ mu
        w2, b2 = net.l2.weight.clone(), net.l2.bias.clone()
        logits = (F.relu(xv @ w1.T + b1) @ w2.T + b2)
        folded_gap = float((logits - net(xvn)).abs().max())
    mlp_pred = logits.argmax(1)
    mlp_acc = float((mlp_pred == yv).float().mean())
    mlp_recall = {o: round(float((mlp_pred[yv == k] == k).float().mean()) if (yv == k).any() else 0.0, 4) for k, o in enumerate(outputs)}
    pred = with_cues(torch.softmax(logits / temperature, 1), vsays, cues, outputs, cue_share).argmax(1)
    acc = float((pred == yv).float().mean())
    conf = [[int(((yv == a) & (pred == b)).sum()) for b in range(len(outputs))] for a in range(len(outputs))]
    recall = {o: round(conf[k][k] / max(1, sum(conf[k])), 4) for k, o in enumerate(outputs)}
    if cues:
        print(f"held-out accuracy: MLP alone {mlp_acc:.4f}, with the word cues ({', '.join(cues)} at share {cue_share}) {acc:.4f}", flush=True)
    base_hash = base_model_hash(model)
    os.makedirs(out, exist_ok=True)
    spec = {"format": "kith-gate-1", "hidden": hidden, "embedding_size": H, "game_features": GAME_FEATURES,
            "outputs": outputs, "temperature": temperature, "strength": strength, "summary": summary_features,
            **({"line_markers": {"start": line_start_id, "end": line_end_id}} if summary_features == "prompt+line" else {}),
            **({"word_cues": {"share": cue_share, "moods": cues}} if cues else {}),
            "base_model": {"hash": base_hash, "name": os.path.normpath(model)}}
    with open(os.path.join(out, "gate.json"), "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out, "gate.safetensors"), {"w1": w1, "b1": b1, "w2": w2, "b2": b2}, "F32")
    summary = {"heldout_accuracy": round(acc, 4), "heldout_samples": len(yv), "recall": recall,
               "mlp_only": {"heldout_accuracy": round(mlp_acc, 4), "recall": mlp_recall},
               "confusion": {"rows_true_cols_pred": outputs, "matrix": conf}, "train_samples": len(yt),
               "epochs": len(history), "wall_seconds": round(time.time() - t0, 1), "folding_max_abs_diff": folded_gap,
               "base_hash": base_hash, "config": {k: globals()[k] for k in CONFIG_KEYS}, "history": history}
    if results:
        os.makedirs(os.path.dirname(results) or ".", exist_ok=True)
        with open(results, "w") as f:
            json.dump(summary, f, indent=1)
            f.write("\n")
    if parity_out:
        # The first 16 held-out samples, and up to 4 more whose line matches a word cue (the blend).
        k = min(16, len(yv))
        cued = [i for i in range(k, len(yv)) if any(re.search(p, vsays[i], re.I) for p in cues.values())][:4]
        rows = torch.tensor(list(range(k)) + cued, dtype=torch.long)
        with torch.no_grad():
            lg = (F.relu(xv[rows].double() @ w1.double().T + b1.double()) @ w2.double().T + b2.double())
            probs = with_cues(torch.softmax(lg / temperature, 1), [vsays[i] for i in rows], cues, outputs, cue_share)
        with open(parity_out, "w") as f:
            json.dump({"samples": [int(vidx[i]) for i in rows], "features": xv[rows].tolist(), "logits": lg.tolist(),
                       "says": [vsays[i] for i in rows], "probs": probs.tolist(), "cued": len(cued),
                       "labels": [outputs[int(yv[i])] for i in rows]}, f)
    print(json.dumps({k: summary[k] for k in ("heldout_accuracy", "heldout_samples", "recall", "train_samples", "epochs", "wall_seconds")}), flush=True)


if __name__ == "__main__":
    main()
