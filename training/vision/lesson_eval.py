"""Scores the reading lesson (train_grounding.py --short_answers) by greedy answers, not loss: each
held-out question after its view, the bare key expected ("purple sack", "left", "two"), an answer
right only when its tokens equal the key's. Asked with the question's own view, a blank picture
(blind) and another scene's view, per question type, with the visual tokens from the scene graph
(oracle) and from the encoder through a projector fitted to the same targets (as --from_oracle
starts), so it shows how much of what the adapter learned to read survives real pixels.

  /usr/bin/python3 training/vision/lesson_eval.py --state=training/out/vision/oracle/oracle_state.pt \
      [--encoder=training/out/vision/encoder.pt] [--limit=600]
  /usr/bin/python3 training/vision/lesson_eval.py --package=assets/vision --adapter=adapters/skill-vision
The second form scores a trained vision package and its adapter (encoder tokens only).
--key_first=1 scores the keyed lesson of train_grounding.py --key_first (the mood tag and the key:
"[mood:calm] Yellow crate."); with --full=1 too, the opening of the voiced answers in the full
layout instead (persona block, view, question), and --view_first=1 puts the view first as
train_grounding.py --view_first does.
Last stdout line: one JSON object; also written to --out (default: lesson_eval.json next to the
state, or in training/out/vision)."""
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import train_grounding as tg  # noqa: E402
from hf_io import load_pretrained  # noqa: E402
from lora import add_adapter, attach, set_mix, set_row_adapters  # noqa: E402
from overrides import apply_overrides  # noqa: E402
from vision.data import load_views  # noqa: E402
from vision.model import Projector  # noqa: E402
from vision.package import load_package  # noqa: E402

DEFAULTS = dict(data="data/vision", model="assets/model", state="", encoder="training/out/vision/encoder.pt",
                limit=600, seed=0, threads=2, align_steps=1500, max_new=12, package="", adapter="", out="", key_first=False, full=False, view_first=False)
END_ID = 8  # <|end|>


@torch.no_grad()
def greedy(net, tokens, prompt, max_new):
    """Greedy continuation of one prompt (ids) with visual tokens (16, H) in its <|image|> slots."""
    ids = list(prompt)
    out = []
    for _ in range(max_new):
        x = torch.tensor([ids])
        emb = net.model.embed_tokens(x).clone()
        slots = x[0] == tg.IMAGE_ID
        emb[0, slots] = tokens[: int(slots.sum())]
        logits, _ = net(x, inputs_embeds=emb)
        nxt = int(logits[0, -1].argmax())
        out.append(nxt)
        if nxt == END_ID:
            break
        ids.append(nxt)
    return out


def main():
    cfg = dict(DEFAULTS)
    apply_overrides(cfg, list(cfg), sys.argv[1:])
    if bool(cfg["state"]) == bool(cfg["package"]) or bool(cfg["package"]) != bool(cfg["adapter"]):
        raise SystemExit("give --state=<oracle_state.pt> (train_grounding.py --oracle writes it), or --package=DIR and --adapter=DIR")
    torch.manual_seed(int(cfg["seed"]))
    torch.set_num_threads(int(cfg["threads"]))
    tok = os.path.join(cfg["model"], "tokenizer.json")
    tg.TOKENIZER[0] = tok
    ho_dir, tr_dir = os.path.join(cfg["data"], "heldout"), os.path.join(cfg["data"], "train")
    full = bool(cfg["full"])
    if full and not cfg["key_first"]:
        raise SystemExit("--full=1 scores the opening of keyed answers: give --key_first=1 too")
    qa, views, types, _ = tg.tokenize_qa(ho_dir, tok, short=not full, keyed=bool(cfg["key_first"]), first=bool(cfg["view_first"]))
    with open(tok) as f:
        vocab = {i: t for t, i in json.load(f)["model"]["vocab"].items()}

    net = load_pretrained(cfg["model"])
    attach(net)
    if cfg["state"]:
        st = torch.load(cfg["state"])
        factors = st["lora"]
    else:
        with open(os.path.join(cfg["adapter"], "adapter_config.json")) as f:
            ac = json.load(f)
        st = {"r": ac["r"], "alpha": ac["lora_alpha"]}
        factors = tg.adapter_factors(net, cfg["adapter"])
    add_adapter(net, "vision", int(st["r"]), int(st["alpha"]), 0)
    tg.set_factors(net, factors)
    set_row_adapters(net, None)
    set_mix(net, {"vision": 1.0})
    net.eval()
    emb0 = net.model.embed_tokens.weight.detach()

    sources, blank = {}, {}
    if cfg["package"]:
        _, enc, proj = load_package(cfg["package"])
        with torch.no_grad():
            sources["encoder"] = proj(tg.encode_pictures(enc, ho_dir))
            blank["encoder"] = proj(enc(torch.full((1, 3, 64, 64), 0.5)))[0]
    else:
        # oracle (scene-graph words + learned positions), and encoder -> projector fitted to the same targets
        sources["oracle"], blank["oracle"] = tg.align_targets(load_views(ho_dir), emb0) + st["pos"], st["pos"]
        if cfg["encoder"]:
            enc, ck = tg.load_encoder(cfg["encoder"])
            proj = Projector(int(ck["cfg"]["feature_dim"]), net.cfg.hidden_size)
            proj.pos.data.copy_(st["pos"])
            tg.align(proj, tg.encode_pictures(enc, tr_dir), tg.align_targets(load_views(tr_dir), emb0), int(cfg["align_steps"]), int(cfg["seed"]))
            with torch.no_grad():
                sources["encoder"] = proj(tg.encode_pictures(enc, ho_dir))
                blank["encoder"] = proj(enc(torch.full((1, 3, 64, 64), 0.5)))[0]

    idx = np.random.default_rng(int(cfg["seed"])).permutation(len(qa))
    idx = idx[[types[i] != "what_see" for i in idx]][: int(cfg["limit"])]  # lists have no key to open with
    other = np.random.default_rng(1).permutation(len(next(iter(sources.values()))))
    result = {"questions": len(idx)}
    t0 = time.time()
    total = len(idx) * len(sources) * 3
    done = 0
    for name, toks in sources.items():
        right = {"seeing": {}, "blind": {}, "other_view": {}}
        for i in idx:
            ids, mask = tg.sample_ids(qa, int(i))
            cut = int(np.argmax(mask >= 1))
            prompt, want = ids[:cut].tolist(), ids[cut:].tolist()
            if full:  # the voiced answer's opening, "[mood:calm] Red barrel.", up to its first full stop
                want = want[: next((j + 1 for j, t in enumerate(want) if "." in vocab.get(t, "")), len(want))]
            v = int(views[i])
            for cond, t in (("seeing", toks[v]), ("blind", blank[name]), ("other_view", toks[int(other[v])])):
                got = greedy(net, t, prompt, int(cfg["max_new"]))
                right[cond].setdefault(types[i], []).append(got[: len(want)] == want)
                done += 1
            if done % 300 == 0:
                el = time.time() - t0
                print(f"[lesson_eval] {done}/{total} answers {el:.0f}s ETA {el / done * (total - done):.0f}s", flush=True)
        for cond, by in right.items():
            flat = [x for v in by.values() for x in v]
            result[f"{name}_{cond}"] = round(float(np.mean(flat)), 4)
            result[f"{name}_{cond}_by_type"] = {k: round(float(np.mean(v)), 3) for k, v in sorted(by.items())}
    out = cfg["out"] or os.path.join(os.path.dirname(cfg["state"]) if cfg["state"] else "training/out/vision", "lesson_eval.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
