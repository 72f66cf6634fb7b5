"""Teaches the language model to read the NPC's view: trains the projector (features -> visual
tokens) and a shared "skill-vision" LoRA on the frozen base, with the encoder frozen (pretrained by
train_encoder.py) and each row's own character adapter active (frozen), as in the game.

First a quick alignment stage (seconds): the projector, without its position embeddings, is fitted
to put in each visual token the mean word embedding of what is there ("red" + "barrel" for a red
barrel whose centre falls in that 2x2 block, zero where nothing is), so from the first step the
language model reads visual tokens that already mean something to it. Then batches mix grounded questions about rendered views (qa.jsonl from `npm run vision:questions`) with
ordinary dialogue samples (data/train, tokenized) that get a random view spliced in, so the vision
adapter, which the server applies whenever an NPC has a view, keeps the dialogue skills.

  /usr/bin/python3 training/vision/train_grounding.py --minutes=25
Any default below can be set as --key=value. Writes the vision package (encoder + trained projector,
vision.json) to --package_out, the adapter pack to --adapter_out, and loss curves + metrics to --out."""
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from dataset import TokenizedCorpus, mark_history_turns  # noqa: E402
from hf_io import load_pretrained  # noqa: E402
from hf_io import read_safetensors  # noqa: E402
from lora import add_adapter, attach, base_model_hash, load_pack, lora_modules, save_pack, set_mix, set_row_adapters  # noqa: E402
from overrides import apply_overrides  # noqa: E402
from plot import write_loss_plot  # noqa: E402
from vision.data import COLOURS, KINDS, load_images, load_views, props_of  # noqa: E402
from vision.model import GRID, TOKENS, Encoder, Projector, merge_2x2  # noqa: E402
from vision.package import load_package, save_package  # noqa: E402

DEFAULTS = dict(data="data/vision", model="assets/model", encoder="training/out/vision/encoder.pt", dialogue="data/train",
                out="training/out/vision", package_out="assets/vision", adapter_out="adapters/skill-vision",
                adapters_dir="adapters", characters="aldric,brom,hilde,mira,wen", minutes=25.0, max_steps=0,
                batch_tokens=3072, dialogue_share=0.3, r=16, alpha=32, lr=1e-3, proj_lr=2e-3, seed=1, threads=1,
                eval_every=100, eval_samples=300, log_every=10, align_steps=1500, align_weight=0.0, oracle=False, short_answers=False, short_share=0.0, resume=False, from_oracle="", key_first=False, view_first=False, chain=4)

IMAGE_ID = 9  # <|image|> (core/prompt/markers.ts)
CONTEXT_MARKERS = (3, 4, 5, 6)  # <|state|> <|near|> <|memory|> <|player|>: the view goes before the first


def reading_lesson(q):
    """--short_answers: the question alone after the view (no persona block) and the bare key as the
    answer ("purple sack", "left", "one"), a first lesson in which the picture is the only thing to
    learn; None for "what do you see?" (long lists)."""
    if q["type"] == "what_see":
        return None
    image = "<|image|>" * TOKENS
    return {**q, "prompt": f"{image}\n<|player|>{q['question']}<|end|>\n<|npc|>", "answer": q["key"]}


# How a key is said at the head of an answer (--key_first); other keys are said as they are.
KEY_SAID = {"front": "in front", "none": "none seen"}


def key_first(q, short=False):
    """--key_first: the answer opens with its key, right after the mood tag ("[mood:calm] Red barrel.
    Aye, a red barrel, off to my left."), and the reading lesson's answer is that opening alone, so
    the voiced answers ask for the key where the lesson taught the model to read it. Lists ("what
    do you see?") are left as they are, and have no lesson."""
    if isinstance(q["key"], list):
        return None if short else q
    m = re.match(r"\s*(\[mood:[a-z]+\])\s*(.*)", q["answer"], re.S)
    mood, rest = (m.group(1), m.group(2)) if m else ("", q["answer"].strip())
    said = KEY_SAID.get(q["key"], q["key"])
    head = f"{mood} {said[0].upper()}{said[1:]}.".strip()
    if short:
        lesson = reading_lesson(q)
        return lesson and {**lesson, "answer": head}
    return {**q, "answer": f"{head} {rest}"}


def view_first(prompt):
    """--view_first: the view's placeholders moved to the very start of the prompt, ahead of the
    persona, where the reading lesson has them: the visual tokens then see only each other, as in
    the lesson, instead of being read after (and mixed with) the persona block."""
    view = "<|image|>" * TOKENS + "\n"
    return view + prompt.replace(view, "", 1) if view in prompt and not prompt.startswith(view) else prompt


def tokenize_qa(split_dir, tokenizer, conversations=False, seed=1, short=False, keyed=False, first=False, chain=4):
    """qa.jsonl -> a tokenized corpus (prompt, completion) at <split>/qa, and the view index per sample.
    With `conversations`, the questions about one view are shuffled and chained `chain`-3…`chain`
    (default 1-4) at a time into
    one conversation (earlier questions and answers as history turns, every answer trained on), which
    is how players ask, and puts several answers behind one persona prefix."""
    src = os.path.join(split_dir, "qa.jsonl")
    name = ("qa_short" if short else "qa") + ("_keyed" if keyed else "") + ("_first" if first and not short else "") + (f"_c{chain}" if chain != 4 else "")
    conv = os.path.join(split_dir, f"{name}_corpus.jsonl")
    with open(src) as f:
        recs = [json.loads(l) for l in f if l.strip()]
    if keyed:
        recs = [r for r in (key_first(q, short) for q in recs) if r is not None]
    elif short:
        recs = [r for r in map(reading_lesson, recs) if r is not None]
    if first:
        recs = [{**q, "prompt": view_first(q["prompt"])} for q in recs]
    groups = [[q] for q in recs]
    if conversations:
        rng = np.random.default_rng(seed)
        by_view = {}
        for q in recs:
            by_view.setdefault(q["view"], []).append(q)
        groups = []
        for qs in by_view.values():
            rng.shuffle(qs)
            i = 0
            while i < len(qs):
                k = int(rng.integers(max(1, chain - 3), chain + 1))
                groups.append(qs[i : i + k])
                i += k
    views, types, npcs = [], [], []
    with open(conv, "w") as g:
        for grp in groups:
            first, last = grp[0], grp[-1]
            # chain: prompt_1 + answer_1 + "\n<|player|>" + q_2 + "<|end|>\n<|npc|>" + ... ; the last answer is the completion
            prompt = first["prompt"]
            for prev, q in zip(grp, grp[1:]):
                prompt += answer_text(prev) + "\n<|player|>" + q["question"].replace("<|", "") + "<|end|>\n<|npc|>"
            g.write(json.dumps({"prompt": prompt, "completion": answer_text(last), "npc": first["npc"], "mood": "", "intent": last["type"]}) + "\n")
            views.append(int(first["view"]))
            npcs.append(first["npc"])
            types.append(last["type"])
    prefix = os.path.join(split_dir, name)
    subprocess.run(["npx", "tsx", "training/tokenizer/encode-corpus.ts", "--tokenizer", tokenizer, "--in", conv, "--out", prefix],
                   check=True, stdout=subprocess.DEVNULL)
    corpus = TokenizedCorpus(prefix)
    if len(corpus) != len(views):
        raise SystemExit(f"{src}: {len(views)} questions but {len(corpus)} tokenized samples")
    return corpus, np.array(views), types, npcs


def load_encoder(path):
    """The frozen encoder of a train_encoder.py checkpoint (in eval mode), and the checkpoint. A
    folder is read as a vision package (assets/vision): its shipped encoder, BatchNorm folded in."""
    if os.path.isdir(path):
        try:
            m, enc, _ = load_package(path)
        except (OSError, KeyError, ValueError, RuntimeError) as e:
            raise SystemExit(f"--encoder {path}: not a loadable vision package (vision.json + encoder/projector safetensors): {type(e).__name__}: {e}")
        enc.eval()
        return enc, {"cfg": {"feature_dim": m["feature_dim"], "limit": m["feature_limit"], "convs": m.get("encoder_convs")},
                     "metrics": m.get("metrics", {}).get("encoder", {})}
    ck = torch.load(path)
    enc = Encoder(int(ck["cfg"]["feature_dim"]), float(ck["cfg"]["limit"]), convs=ck["cfg"].get("convs"))
    enc.load_state_dict(ck["encoder"])
    enc.eval()
    return enc, ck


@torch.no_grad()
def encode_pictures(enc, split_dir):
    """Features of every picture of a split, 512 at a time."""
    return torch.cat([enc(x.float() / 255) for x in load_images(split_dir).split(512)])


def adapter_factors(net, adapter_dir):
    """{module: (lora_A, lora_B)} of a saved skill-vision pack, for the LoRA modules of `net` it has
    (a base grown by layers on top has modules the pack was not trained for; they keep their init)."""
    sd = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
    found = {mod: (sd[f"base_model.model.{mod}.lora_A.weight"], sd[f"base_model.model.{mod}.lora_B.weight"])
             for mod, _ in lora_modules(net) if f"base_model.model.{mod}.lora_A.weight" in sd}
    if not found:
        raise SystemExit(f"{adapter_dir}: no factors for this model's modules")
    return found


def set_factors(net, factors):
    """Copies {module: (lora_A, lora_B)} into the skill-vision adapter of the LoRA modules named."""
    for mod, m in lora_modules(net):
        if mod not in factors:
            continue
        m.A["vision"].data.copy_(factors[mod][0])
        m.B["vision"].data.copy_(factors[mod][1])


def answer_text(q):
    a = q["answer"].strip()
    return a if a.endswith("<|end|>") else a + "<|end|>"


def newline_id(tokenizer):
    with open(tokenizer) as f:
        vocab = json.load(f)["model"]["vocab"]
    return vocab["\u010a"]  # byte-level BPE's "\n"


def sample_ids(corpus, i):
    """ids and loss mask of sample i: 1 on the reply, 2 on earlier NPC turns (also trained on)."""
    a, b = int(corpus.offsets[i]), int(corpus.offsets[i + 1])
    ids, mask = np.asarray(corpus.ids[a:b], dtype=np.int64), np.array(corpus.mask[a:b], dtype=np.uint8)
    mark_history_turns(ids, mask)
    return ids, mask


def with_view(ids, mask, nl, first=False):
    """A dialogue sample with the view section inserted where the layout puts it (after the persona),
    or at the start with `first` (--view_first)."""
    at = 0 if first else next((t for t in range(1, len(ids)) if ids[t] in CONTEXT_MARKERS), None)
    if at is None:
        return ids, mask
    ins = np.array([IMAGE_ID] * TOKENS + [nl], dtype=np.int64)
    return np.concatenate([ids[:at], ins, ids[at:]]), np.concatenate([mask[:at], np.zeros(len(ins), np.uint8), mask[at:]])


def word_ids(words):
    """Token ids of " word" for each word, with the project's own BPE (training/tokenizer/bpe.ts)."""
    script = ("import { readFileSync } from 'node:fs'; import { ByteLevelBPE } from './training/tokenizer/bpe.ts';"
              "const b = new ByteLevelBPE(JSON.parse(readFileSync(process.argv[1], 'utf8')));"
              "console.log(JSON.stringify(JSON.parse(process.argv[2]).map((w) => b.encode(' ' + w))));")
    out = subprocess.run(["npx", "tsx", "-e", script, TOKENIZER[0], json.dumps(words)], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


TOKENIZER = [""]


def align_targets(views, emb):
    """(N, 16, H): per visual token, the mean over props centred in its 2x2 block of
    (embedding of the colour word + embedding of the kind word) / 2; zero where there is none."""
    ids = word_ids(COLOURS + KINDS)
    vec = [emb[torch.tensor(i)].mean(0) for i in ids]
    col, kin = vec[: len(COLOURS)], vec[len(COLOURS):]
    half = GRID // 2
    out = torch.zeros(len(views), TOKENS, emb.shape[1])
    cnt = torch.zeros(len(views), TOKENS, 1)
    for n, v in enumerate(views):
        for p in props_of(v):
            if not p.get("visible"):
                continue
            tx = min(half - 1, max(0, int(p["u"] * half)))
            ty = min(half - 1, max(0, int(p["v"] * half)))
            t = ty * half + tx
            out[n, t] += (col[COLOURS.index(p["colour"])] + kin[KINDS.index(p["kind"])]) / 2
            cnt[n, t] += 1
    return out / cnt.clamp(min=1)


def align(proj, feats, targets, steps, seed):
    """Fits the projector's MLP (position embeddings left out) to the word-embedding targets."""
    opt = torch.optim.Adam([p for n, p in proj.named_parameters() if n != "pos"], lr=2e-3)
    g = torch.Generator().manual_seed(seed)
    t0 = time.time()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(feats), (128,), generator=g)
        pred = proj.out(F.silu(proj.merge(merge_2x2(feats[idx]))))
        loss = F.mse_loss(pred, targets[idx])
        opt.zero_grad(); loss.backward(); opt.step()
        if step % 500 == 0 or step == 1:
            print(f"[grounding] align step {step}/{steps} mse {loss.item():.5f} (target mean square {targets[idx].pow(2).mean().item():.5f}) {time.time() - t0:.0f}s", flush=True)


class OracleTokens(torch.nn.Module):
    """Diagnostic (--oracle): the visual tokens are the alignment targets themselves (what a perfect
    encoder and projector would give: the colour and kind words of what is in each block) plus a
    learned embedding per position. Shows whether the language model learns to read visual tokens at
    all in a given budget, apart from how good the encoder is."""

    def __init__(self, hidden):
        super().__init__()
        self.pos = torch.nn.Parameter(torch.randn(TOKENS, hidden) * 0.02)

    def forward(self, targets):
        return targets + self.pos


class Rows:
    """Builds padded batches of (ids, loss mask, view index, character) rows."""

    def __init__(self, rows):
        self.rows = rows

    def batch(self):
        T = min(512, max(len(r[0]) for r in self.rows))
        B = len(self.rows)
        ids = torch.zeros(B, T, dtype=torch.long)
        mask = torch.zeros(B, T, dtype=torch.uint8)
        for k, (i, m, _, _) in enumerate(self.rows):
            i, m = i[-T:], m[-T:]
            ids[k, : len(i)] = torch.from_numpy(i)
            mask[k, : len(m)] = torch.from_numpy(m)
        return ids, mask, [r[2] for r in self.rows], [r[3] for r in self.rows]


def forward_loss(net, proj, feats, ids, mask, views, chars, characters, align=None):
    """Answer cross-entropy; with `align` = (targets, weight), plus weight x the alignment MSE of
    this batch's visual tokens (position embeddings left out) relative to the targets' mean square,
    which keeps each token saying what is in its block while the language model learns to read it."""
    emb = net.model.embed_tokens(ids)
    slots = ids == IMAGE_ID
    if slots.any():
        vis = proj(feats[torch.tensor(views)])  # (B, 16, H)
        emb = emb.clone()
        for b in range(ids.shape[0]):
            n = int(slots[b].sum())
            if n:
                emb[b, slots[b]] = vis[b, :n]
    set_row_adapters(net, [c if c in characters else None for c in chars] if all(c in characters for c in chars) else None)
    set_mix(net, {"vision": 1.0})
    head = net.lm_head
    net.lm_head = torch.nn.Identity()
    try:
        h, _ = net(ids[:, :-1], inputs_embeds=emb[:, :-1])
    finally:
        net.lm_head = head
    tgt = ids[:, 1:]
    sel = (mask[:, 1:] >= 1).reshape(-1)
    logits = net.lm_head(h.reshape(-1, h.shape[-1])[sel])
    loss = F.cross_entropy(logits, tgt.reshape(-1)[sel])
    if align is not None and align[1] > 0:
        targets, weight = align
        vt = torch.tensor(views)
        pred = proj.out(F.silu(proj.merge(merge_2x2(feats[vt]))))
        t = targets[vt]
        loss = loss + weight * F.mse_loss(pred, t) / t.pow(2).mean().clamp(min=1e-8)
    return loss


def main():
    cfg = dict(DEFAULTS)
    apply_overrides(cfg, list(cfg), sys.argv[1:])
    if int(cfg["chain"]) < 1:
        raise SystemExit(f"--chain={cfg['chain']}: a conversation holds at least one question")
    torch.manual_seed(cfg["seed"])
    torch.set_num_threads(int(cfg["threads"]))
    rng = np.random.default_rng(int(cfg["seed"]))
    os.makedirs(cfg["out"], exist_ok=True)
    tok = os.path.join(cfg["model"], "tokenizer.json")
    TOKENIZER[0] = tok
    nl = newline_id(tok)
    characters = [c for c in cfg["characters"].split(",") if c]

    # --- frozen encoder -> features of every picture ---
    enc, ck = load_encoder(cfg["encoder"])
    ecfg = ck["cfg"]
    feats = {split: encode_pictures(enc, os.path.join(cfg["data"], split)) for split in ("train", "heldout")}
    print(f"[grounding] features: train {tuple(feats['train'].shape)}, held-out {tuple(feats['heldout'].shape)}", flush=True)

    short = bool(cfg["short_answers"])
    keyed, first = bool(cfg["key_first"]), bool(cfg["view_first"])
    qa_tr, views_tr, types_tr, npc_tr = tokenize_qa(os.path.join(cfg["data"], "train"), tok, conversations=True, seed=int(cfg["seed"]), short=short, keyed=keyed, first=first, chain=int(cfg["chain"]))
    qa_ho, views_ho, types_ho, npc_ho = tokenize_qa(os.path.join(cfg["data"], "heldout"), tok, short=short, keyed=keyed, first=first)
    lesson = None
    if not short and float(cfg["short_share"]) > 0:
        # Keep the reading lesson going beside the full layout, so reading is not lost while the
        # adapter learns the persona layout and the voices.
        lesson = tokenize_qa(os.path.join(cfg["data"], "train"), tok, conversations=True, seed=int(cfg["seed"]), short=True, keyed=keyed)
    dia = TokenizedCorpus(cfg["dialogue"]) if cfg["dialogue_share"] > 0 else None
    dia_npc = json.load(open(cfg["dialogue"] + ".meta.json"))["columns"]["npc"] if dia else []
    print(f"[grounding] questions: {len(qa_tr)} train, {len(qa_ho)} held-out; dialogue samples: {len(dia) if dia else 0}", flush=True)

    # --- model: frozen base + frozen character adapters + trainable vision adapter ---
    net = load_pretrained(cfg["model"])
    base_hash = base_model_hash(cfg["model"])
    attach(net)
    for c in characters:
        load_pack(net, c, os.path.join(cfg["adapters_dir"], c), expect_hash=base_hash)
    lora_params = add_adapter(net, "vision", int(cfg["r"]), int(cfg["alpha"]), int(cfg["seed"]))
    proj = Projector(int(ecfg["feature_dim"]), net.cfg.hidden_size)
    torch.nn.init.normal_(proj.pos, std=0.02)
    if cfg["oracle"]:
        emb0 = net.model.embed_tokens.weight.detach()
        for split in ("train", "heldout"):
            feats[split] = align_targets(load_views(os.path.join(cfg["data"], split)), emb0)
        proj = OracleTokens(net.cfg.hidden_size)
        cfg["align_steps"], cfg["align_weight"] = 0, 0.0
        print("[grounding] oracle: the visual tokens are the scene graph's words (a diagnostic; nothing is saved)", flush=True)
    if cfg["from_oracle"]:
        # Curriculum: go on from a reading lesson with oracle tokens (its skill-vision factors and
        # position embeddings). With --oracle the run simply goes on with the oracle's tokens;
        # otherwise the alignment stage below fits the projector's MLP to the same word targets
        # the oracle fed, so the language model reads the encoder's tokens as it learned to read
        # the oracle's.
        st = torch.load(cfg["from_oracle"])
        if st["r"] != int(cfg["r"]) or st["alpha"] != int(cfg["alpha"]):
            raise SystemExit(f"--from_oracle: {cfg['from_oracle']} has r={st['r']} alpha={st['alpha']}, this run r={cfg['r']} alpha={cfg['alpha']}")
        proj.pos.data.copy_(st["pos"])
        set_factors(net, st["lora"])
        print(f"[grounding] going on from the oracle reading lesson in {cfg['from_oracle']}", flush=True)
    elif cfg["resume"] and not cfg["oracle"]:
        # Go on from the package and adapter written by an earlier run (same rank and alpha).
        _, _, prev = load_package(cfg["package_out"])
        proj.load_state_dict(prev.state_dict())
        set_factors(net, adapter_factors(net, cfg["adapter_out"]))
        print(f"[grounding] resuming from {cfg['package_out']} and {cfg['adapter_out']}", flush=True)
    targets = None
    if int(cfg["align_steps"]) > 0 or float(cfg["align_weight"]) > 0:
        targets = align_targets(load_views(os.path.join(cfg["data"], "train")), net.model.embed_tokens.weight.detach())
    if not cfg["resume"] and int(cfg["align_steps"]) > 0:
        align(proj, feats["train"], targets, int(cfg["align_steps"]), int(cfg["seed"]))
    opt = torch.optim.AdamW([{"params": lora_params, "lr": cfg["lr"]}, {"params": list(proj.parameters()), "lr": cfg["proj_lr"]}],
                            betas=(0.9, 0.95), weight_decay=0.0)
    base_lrs = [cfg["lr"], cfg["proj_lr"]]

    def draw(n_rows_tokens):
        rows, longest = [], 0
        while True:
            if dia is not None and rng.random() < cfg["dialogue_share"]:
                i = int(rng.integers(len(dia)))
                ids, m = with_view(*sample_ids(dia, i), nl, first)
                row = (ids, m, int(rng.integers(len(feats["train"]))), dia_npc[i])
            elif lesson is not None and rng.random() < cfg["short_share"]:
                i = int(rng.integers(len(lesson[0])))
                ids, m = sample_ids(lesson[0], i)
                row = (ids, m, int(lesson[1][i]), lesson[3][i])
            else:
                i = int(rng.integers(len(qa_tr)))
                ids, m = sample_ids(qa_tr, i)
                row = (ids, m, int(views_tr[i]), npc_tr[i])
            longest = max(longest, len(row[0]))
            if rows and longest * (len(rows) + 1) > n_rows_tokens:
                return Rows(rows)
            rows.append(row)

    shuffled_views = torch.from_numpy(np.random.default_rng(1).permutation(len(feats["heldout"])))

    @torch.no_grad()
    def held_out():
        """Held-out answer loss with each question's own view, and with another scene's view: the
        difference (image gain) is what the picture is worth to the model; about 0 means it is ignored."""
        idx = np.random.default_rng(0).choice(len(qa_ho), min(int(cfg["eval_samples"]), len(qa_ho)), replace=False)
        out = {}
        for name, f in (("val_loss", feats["heldout"]), ("val_loss_shuffled", feats["heldout"][shuffled_views])):
            tot = n = 0.0
            for s in range(0, len(idx), 8):
                rows = [(*sample_ids(qa_ho, int(i)), int(views_ho[i]), npc_ho[i]) for i in idx[s : s + 8]]
                ids, mask, v, ch = Rows(rows).batch()
                k = float((mask[:, 1:] >= 1).sum())
                tot += forward_loss(net, proj, f, ids, mask, v, ch, characters).item() * k
                n += k
            out[name] = tot / max(n, 1)
        out["image_gain"] = out["val_loss_shuffled"] - out["val_loss"]
        return out

    def say(h):
        return f"{h['val_loss']:.4f} (another scene's view: {h['val_loss_shuffled']:.4f}, image gain {h['image_gain']:+.4f})"

    history = [{"step": 0, **held_out()}]
    print(f"[grounding] held-out answer loss before: {say(history[0])}", flush=True)
    budget = float(cfg["minutes"]) * 60
    max_steps = int(cfg["max_steps"]) or 10**9
    planned = max_steps
    t0 = time.time(); step = 0; last = 0.0; run = []
    while step < planned:
        if int(cfg["max_steps"]) == 0 and time.time() - t0 >= budget:
            break
        if step >= 10 and int(cfg["max_steps"]) == 0:
            planned = max(step + 1, int(budget / ((time.time() - t0) / step)))
        frac = min(1.0, step / max(1, planned))
        warm = min(1.0, (step + 1) / 20)
        for g, b in zip(opt.param_groups, base_lrs):
            g["lr"] = b * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        ids, mask, v, ch = draw(int(cfg["batch_tokens"])).batch()
        loss = forward_loss(net, proj, feats["train"], ids, mask, v, ch, characters, align=(targets, float(cfg["align_weight"])))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lora_params + list(proj.parameters()), 1.0)
        opt.step()
        step += 1
        run.append(loss.item())
        if step % int(cfg["log_every"]) == 0 or step == 1:
            el = time.time() - t0
            history.append({"step": step, "train_loss": sum(run) / len(run)})
            run = []
            if time.time() - last > 15:
                last = time.time()
                known = planned < 10**9
                eta = f"{el / step * (planned - step):.0f}s" if known else "? (timing the first steps)"
                print(f"[grounding] step {step}/{planned if known else '?'} loss {history[-1]['train_loss']:.4f} {el:.0f}s ETA {eta}", flush=True)
        if step % int(cfg["eval_every"]) == 0:
            history.append({"step": step, **held_out()})
            print(f"[grounding] held-out answer loss {say(history[-1])}", flush=True)
    last_eval = held_out()
    v1 = last_eval["val_loss"]
    history.append({"step": step, **last_eval})
    wall = time.time() - t0
    print(f"[grounding] done: {step} steps, {wall:.0f} s, held-out answer loss {history[0]['val_loss']:.4f} -> {say(last_eval)}", flush=True)
    write_loss_plot(history, os.path.join(cfg["out"], "grounding_loss"), f"grounding{' (oracle tokens)' if cfg['oracle'] else ''}: held-out {history[0]['val_loss']:.3f} -> {v1:.3f}")
    metrics = {"steps": step, "seconds": round(wall, 1), "heldout_loss_before": round(history[0]["val_loss"], 4),
               "heldout_loss_after": round(v1, 4), "heldout_loss_other_view_after": round(last_eval["val_loss_shuffled"], 4),
               "image_gain_after": round(last_eval["image_gain"], 4), "align_weight": float(cfg["align_weight"]),
               "encoder": ck.get("metrics", {})}
    if cfg["oracle"]:
        with open(os.path.join(cfg["out"], "grounding_oracle_metrics.json"), "w") as f:
            json.dump(metrics, f, indent=2)
        # What --from_oracle starts from: the adapter's factors and the learned position embeddings.
        torch.save({"r": int(cfg["r"]), "alpha": int(cfg["alpha"]), "pos": proj.pos.detach().clone(),
                    "lora": {mod: (m.A["vision"].detach().clone(), m.B["vision"].detach().clone()) for mod, m in lora_modules(net)}},
                   os.path.join(cfg["out"], "oracle_state.pt"))
        print(json.dumps(metrics))
        return
    # A package written over one with a prop detector keeps it (its own file and thresholds; the
    # detector reads the encoder's features, not the language model's); its grounding record goes,
    # since it measured the old projector and packs: `npm run eval:grounding -- --record` again.
    kept = {}
    old_manifest = os.path.join(cfg["package_out"], "vision.json")
    if os.path.exists(old_manifest):
        with open(old_manifest) as f:
            old = json.load(f)
        if "detector" in old and os.path.exists(os.path.join(cfg["package_out"], old["detector"]["file"])):
            kept["detector"] = old["detector"]
    save_package(cfg["package_out"], enc, proj, base_hash=base_hash, extra={"trained": True, "adapter": "skill-vision", "metrics": metrics, **kept})
    save_pack(net, "vision", cfg["adapter_out"], kind="skill", r=int(cfg["r"]), alpha=int(cfg["alpha"]),
              targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], dropout=0.0,
              base_hash=base_hash, base_name=os.path.normpath(cfg["model"]), version=str(int(time.time())),
              extra={"display_name": "Sight", "applies_when": "the NPC has a view (core/vision)"})
    with open(os.path.join(cfg["out"], "grounding_metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
