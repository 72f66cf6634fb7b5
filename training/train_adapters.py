"""Train LoRA adapters on the frozen base model: one per character, one per mood.

    /usr/bin/python3 training/train_adapters.py --adapters=brom,mira,aldric,hilde,wen --minutes=3
    /usr/bin/python3 training/train_adapters.py --adapters=mood-calm,mood-angry,mood-afraid,mood-cheerful,mood-sad --minutes=3

Every default below can be overridden with --key=value. Adapter ids are the pack ids the cards name
(adapters/<id>/character.json "adapters": persona and moods):
  <character>   trained on that character's samples (all moods, all intents): voice and lore.
  mood-<mood>   trained on the samples of that mood across characters, each batch drawn from one
                character with that character's pack active and frozen at weight 1 and the mood
                adapter at `mood_weight` — how the game mixes them (core/runtime/gate/mix.ts:
                persona 1 + the gate's strength spread over moods; a confident gate gives its top
                mood about `strength`, 0.8). So character packs must exist (and match the base) first.
  skill-<name>  trained on every sample of `train_data` (a skill's own data set, e.g. the data engine's
                nearby intents in scene variants), each batch from one character with that
                character's pack active and frozen at weight 1, the skill at `skill_weight`.
Loss: cross-entropy on the reply (weight 1) and on earlier NPC turns (`history_weight`), as the
base trainer (train_base.loss_terms). AdamW on the LoRA factors only, warmup then cosine; with
--minutes the step count is planned from the measured step time (re-planned every 10 steps).
Held-out loss (first `eval_samples` held-out samples of the adapter's selection) is measured before
training (the base, or base + persona for a mood) and after. Writes adapters/<id>/ (PEFT pack +
adapter.json with the base model's hash), training/out/adapters/<id>/{log.jsonl, loss.json,
loss.svg}, training/results/adapters/<id>_loss.svg and a summary line per adapter in
training/results/adapters/summary.jsonl.
"""
import json
import math
import os
import shutil
import sys
import time
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overrides import apply_overrides, config_keys  # noqa: E402
from dataset import BucketedSampler, TokenizedCorpus  # noqa: E402
from hf_io import load_pretrained  # noqa: E402
from lora import ALL_TARGETS, add_adapter, attach, base_model_hash, load_pack, lora_modules, save_pack, set_mix  # noqa: E402
from plot import write_loss_plot  # noqa: E402
from train_base import fmt_eta, loss_terms  # noqa: E402

# ---- defaults (override with --key=value) ----
model = "assets/model"
train_data = "data/train"
val_data = "data/heldout"
adapters_dir = "adapters"
scene = "scenes/village.json"  # maps the data's NPC ids to character ids
out_dir = "training/out/adapters"
results_dir = "training/results/adapters"
adapters = ""  # comma-separated pack ids
characters = ""  # mood adapters: train on these characters' samples only ("" = every card that allows the mood)
r = 8
alpha = 16.0
targets = ",".join(ALL_TARGETS)
dropout = 0.05
lr = 3e-3
min_lr = 3e-4
warmup_steps = 5
weight_decay = 0.0
grad_clip = 1.0
batch_size = 8
context = 512
history_weight = 1.0
mood_weight = 0.8  # the mood adapter's weight in training (the gate's strength)
skill_weight = 1.0  # a skill adapter's weight in training (the game applies skills at full weight)
minutes = 3.0  # budget per adapter
max_steps = 0  # > 0: run exactly this many steps (overrides the plan from --minutes)
init_from = ""  # a pack folder (same rank, base and targets): start from its factors instead of a fresh init, to go on training
init_any_base = False  # let init_from take a pack trained for another base (e.g. the one this base was fine-tuned from)
plan_after = 5
eval_samples = 48
log_every = 5
seed = 1
threads = 1
version = "1"
dtype = "F16"  # storage of the factors: F16 halves the pack (rank 8, all 7 targets, 6 layers: 163k values)
# ----

CONFIG_KEYS = config_keys(globals())


def parse_overrides(argv):
    apply_overrides(globals(), CONFIG_KEYS, argv)


def run_config():
    return {k: globals()[k] for k in CONFIG_KEYS}


class Subset:
    """A view of a TokenizedCorpus restricted to sample indices `idx` (what BucketedSampler needs)."""

    def __init__(self, corpus, idx):
        self.idx = np.asarray(idx, dtype=np.int64)
        self.lengths = corpus.lengths[self.idx]

    def __len__(self):
        return len(self.idx)


def load_cards():
    """character id -> card (adapters/<dir>/character.json)."""
    cards = {}
    for d in sorted(os.listdir(adapters_dir)):
        p = os.path.join(adapters_dir, d, "character.json")
        if os.path.exists(p):
            c = json.load(open(p))
            cards[c["id"]] = c
    return cards


def columns(prefix):
    meta = json.load(open(prefix + ".meta.json"))
    cols = meta.get("columns") or {}
    for k in ("npc", "mood"):
        if k not in cols:
            raise SystemExit(f"{prefix}.meta.json has no per-sample '{k}' column (re-run npm run tokenize)")
    return np.array(cols["npc"]), np.array(cols["mood"])


def lr_at(step, total):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    frac = min(1.0, (step - warmup_steps) / max(1, total - warmup_steps))
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * frac))


@torch.no_grad()
def held_out_loss(net, corpus, groups):
    """groups: [(sample indices, mix)] -> completion loss over all of them."""
    net.eval()
    tot, cnt = 0.0, 0
    for idx, mix in groups:
        set_mix(net, mix)
        idx = sorted(idx, key=lambda i: corpus.lengths[i])
        for i in range(0, len(idx), 8):
            ids, mask = corpus.batch(idx[i : i + 8], context)
            _, l, c = loss_terms(net, ids, mask, 0.0)
            tot += float(l) * c
            cnt += c
    net.train()
    return tot / max(cnt, 1)


def train_one(net, aid, plan, train, val, base_hash):
    """plan: {"kind", "streams": [(npc, Subset, mix without the new adapter, weight)], "val": [(idx, mix)]}."""
    kind = plan["kind"]
    tg = targets.split(",")
    params = add_adapter(net, aid, r, alpha, seed + zlib.crc32(aid.encode()))  # each adapter its own A init
    if init_from:
        # Go on from a pack: its factors into the new adapter (the pack's scaling must match r and alpha).
        if init_any_base:
            print(f"[{aid}] init_from={init_from}: base hash not checked (--init_any_base)", flush=True)
        load_pack(net, "_init", init_from, expect_hash=None if init_any_base else base_hash)
        for _, m in lora_modules(net):
            if "_init" not in m.A:
                continue
            if m.A["_init"].shape != m.A[aid].shape or abs(m.scaling["_init"] - m.scaling[aid]) > 1e-6:
                raise SystemExit(f"init_from={init_from}: rank or alpha differ from --r={r} --alpha={alpha}")
            with torch.no_grad():
                m.A[aid].copy_(m.A["_init"])
                m.B[aid].copy_(m.B["_init"])
            del m.A["_init"], m.B["_init"], m.scaling["_init"]
        print(f"[{aid}] starting from the factors of {init_from}", flush=True)
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    samplers = [BucketedSampler(sub, batch_size, seed + k) for k, (_, sub, _, _) in enumerate(plan["streams"])]
    probs = np.array([len(s[1]) for s in plan["streams"]], dtype=np.float64)
    probs /= probs.sum()
    aw = plan["weight"]
    val_groups = [(idx, {**mix, aid: aw}) for idx, mix in plan["val"]]
    run_dir = os.path.join(out_dir, aid)
    os.makedirs(run_dir, exist_ok=True)
    log = open(os.path.join(run_dir, "log.jsonl"), "w")
    history = []
    t0 = time.time()
    v0 = held_out_loss(net, val, val_groups)  # B = 0: the starting point (base, or base + persona)
    history.append({"step": 0, "val_loss": v0})
    print(f"[{aid}] held-out loss before: {v0:.4f} ({sum(len(i) for i, _ in plan['val'])} samples)", flush=True)
    planned = max_steps if max_steps > 0 else 0
    budget = minutes * 60 - (time.time() - t0)
    step, t_loop, run_losses, tokens = 0, time.time(), [], 0
    while True:
        if planned and step >= planned:
            break
        if not max_steps and time.time() - t0 > minutes * 60:
            print(f"[{aid}] time budget reached at step {step}", flush=True)
            break
        total = planned or 10 ** 9
        cur = lr_at(step, total)
        for g in opt.param_groups:
            g["lr"] = cur
        k = int(rng.choice(len(samplers), p=probs))
        _, sub, mix, _ = plan["streams"][k]
        batch_idx = sub.idx[samplers[k].next()]
        ids, mask = train.batch(batch_idx.tolist(), context, history_turns=history_weight > 0)
        set_mix(net, {**mix, aid: aw})
        loss, comp, _ = loss_terms(net, ids, mask, 0.0, history_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = float(torch.nn.utils.clip_grad_norm_(params, grad_clip))
        opt.step()
        step += 1
        tokens += int((ids != 0).sum())
        run_losses.append(float(comp))
        if not max_steps and (step == plan_after or (step > plan_after and step % 10 == 0)):
            per = (time.time() - t_loop) / step
            left = budget - (time.time() - t_loop)
            planned = step + max(1, int(left / per))
        if step % log_every == 0 or step == 1 or step == planned:
            tl = sum(run_losses) / len(run_losses)
            run_losses = []
            el = time.time() - t_loop
            eta = (planned - step) * el / step if planned else float("nan")
            rec = {"step": step, "train_loss": tl, "lr": cur, "grad_norm": gn, "tokens": tokens, "wall": round(time.time() - t0, 1)}
            history.append(rec)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(f"[{aid}] step {step}/{planned or '?'} loss {tl:.4f} lr {cur:.2e} gnorm {gn:.2f} "
                  f"{tokens / max(el, 1e-9):,.0f} tok/s ETA {fmt_eta(eta) if eta == eta else '?'}", flush=True)
    for p in params:
        p.requires_grad_(False)
    v1 = held_out_loss(net, val, val_groups)
    history.append({"step": step, "val_loss": v1})
    log.write(json.dumps({"step": step, "val_loss": v1}) + "\n")
    log.close()
    wall = time.time() - t0
    print(f"[{aid}] held-out loss after {step} steps: {v1:.4f} (before {v0:.4f}); {wall:.0f} s", flush=True)
    title = f"adapter {aid} (rank {r}), held-out {v0:.3f} -> {v1:.3f}"
    write_loss_plot(history, os.path.join(run_dir, "loss"), title=title)
    os.makedirs(results_dir, exist_ok=True)
    shutil.copyfile(os.path.join(run_dir, "loss.svg"), os.path.join(results_dir, f"{aid}_loss.svg"))
    save_pack(net, aid, os.path.join(adapters_dir, aid), kind=kind, r=r, alpha=alpha, targets=tg, dropout=dropout,
              base_hash=base_hash, base_name=os.path.normpath(model), version=version, dtype=dtype)
    summary = {"adapter": aid, "kind": kind, "steps": step, "tokens": tokens, "wall_seconds": round(wall, 1),
               "heldout_loss_before": round(v0, 4), "heldout_loss_after": round(v1, 4),
               "heldout_samples": sum(len(i) for i, _ in plan["val"]), "base_hash": base_hash,
               "config": {k: globals()[k] for k in ("r", "alpha", "targets", "dropout", "lr", "min_lr", "batch_size", "history_weight", "mood_weight", "seed", "init_from")}}
    with open(os.path.join(results_dir, "summary.jsonl"), "a") as f:
        f.write(json.dumps(summary) + "\n")
    print(json.dumps(summary), flush=True)
    # Keep the trained adapter in the model (frozen, inactive): later mood adapters may use it.
    set_mix(net, {})
    return summary


def main():
    parse_overrides(sys.argv[1:])
    if not adapters:
        raise SystemExit("--adapters=<ids> is required (characters by id, moods as mood-<mood>, skills as skill-<name>)")
    if max_steps <= 0 and minutes <= 0:
        raise SystemExit("give a budget: --minutes=M or --max_steps=N")
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    base_hash = base_model_hash(model)
    cards = load_cards()
    scene_npcs = {n["id"]: n["character"] for n in json.load(open(scene))["npcs"]}
    train, val = TokenizedCorpus(train_data), TokenizedCorpus(val_data)
    t_npc, t_mood = columns(train_data)
    v_npc, v_mood = columns(val_data)
    t_char = np.array([scene_npcs.get(n, n) for n in t_npc])
    v_char = np.array([scene_npcs.get(n, n) for n in v_npc])
    net = attach(load_pretrained(model), targets.split(","), dropout)
    net.train()  # dropout on the LoRA path only; the base has none
    print(f"base {model} (hash {base_hash}); LoRA r={r} alpha={alpha} on {targets}", flush=True)
    loaded_personas = set()
    for aid in [a.strip() for a in adapters.split(",") if a.strip()]:
        if aid.startswith("skill-") or aid.startswith("mood-"):
            # On top of each character's own pack, frozen at weight 1: a skill on all of that
            # character's samples, a mood on its samples of that mood (for cards that allow it).
            mood = aid[len("mood-"):] if aid.startswith("mood-") else None
            kind, weight = ("mood", mood_weight) if mood else ("skill", skill_weight)
            streams, vals = [], []
            for cid, card in sorted(cards.items()):
                if (mood and aid not in card["adapters"]["moods"]) or (characters and cid not in characters.split(",")):
                    continue
                persona = card["adapters"]["persona"]
                if persona not in loaded_personas:
                    load_pack(net, persona, os.path.join(adapters_dir, persona), expect_hash=base_hash)
                    loaded_personas.add(persona)
                sel = np.flatnonzero((t_char == cid) & ((t_mood == mood) if mood else True))
                if len(sel):
                    streams.append((cid, Subset(train, sel), {persona: 1.0}, weight))
                vsel = np.flatnonzero((v_char == cid) & ((v_mood == mood) if mood else True))[: max(1, eval_samples // 5)]
                if len(vsel):
                    vals.append((vsel.tolist(), {persona: 1.0}))
            if not streams:
                raise SystemExit(f"{aid}: no training samples of mood {mood!r} for a character whose card allows {aid}" if mood
                                 else f"{aid}: {train_data} has no samples of a character with a card")
            plan = {"kind": kind, "streams": streams, "val": vals, "weight": weight}
        else:
            if aid not in {c["adapters"]["persona"] for c in cards.values()}:
                raise SystemExit(f"{aid}: no card names it as persona; personas: {sorted(c['adapters']['persona'] for c in cards.values())}")
            cid = next(c["id"] for c in cards.values() if c["adapters"]["persona"] == aid)
            sel = np.flatnonzero(t_char == cid)
            vsel = np.flatnonzero(v_char == cid)[:eval_samples]
            plan = {"kind": "character", "streams": [(cid, Subset(train, sel), {}, 1.0)], "val": [(vsel.tolist(), {})], "weight": 1.0}
        n = sum(len(s[1]) for s in plan["streams"])
        print(f"[{aid}] {plan['kind']} adapter: {n} training samples", flush=True)
        train_one(net, aid, plan, train, val, base_hash)
        if plan["kind"] == "character":
            loaded_personas.add(aid)


if __name__ == "__main__":
    main()
