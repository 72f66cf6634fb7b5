"""The skill-sight training mix (training/vision/README.md, "A new base"): village questions, questions
about generated scenes by type, and sight-line dialogue samples, shuffled; and a held-out mix.

    /usr/bin/python3 training/vision/sight_mix.py [--sight data/sight] [--dialogue data/sight-dlg] [--seed 6]

Reads <sight>/train.jsonl with its train.qa.jsonl (the view of each question: views from
--scene-views are numbered after the generated ones, from --generated on), <sight>/heldout.jsonl and
<dialogue>/{train,heldout}.jsonl; writes <sight>/mix.jsonl and <sight>/mixval.jsonl (tokenize both).
"""
import argparse
import json
import random

ap = argparse.ArgumentParser()
ap.add_argument("--sight", default="data/sight")
ap.add_argument("--dialogue", default="data/sight-dlg")
ap.add_argument("--generated", type=int, default=20000, help="views of generated scenes (data:sight --views)")
ap.add_argument("--village", type=int, default=6000)
ap.add_argument("--per-type", default="what_see=2600,nearest=900,other=600")
ap.add_argument("--dialogue-samples", type=int, default=2200)
ap.add_argument("--val", default="1500,500", help="held-out questions, held-out dialogue samples")
ap.add_argument("--seed", type=int, default=6)
a = ap.parse_args()

rng = random.Random(a.seed)
lines = open(f"{a.sight}/train.jsonl").readlines()
qa = [json.loads(l) for l in open(f"{a.sight}/train.qa.jsonl")]
if len(qa) != len(lines):
    raise SystemExit(f"{a.sight}: train.jsonl and train.qa.jsonl differ in length ({len(lines)} vs {len(qa)})")
per = dict(kv.split("=") for kv in a.per_type.split(","))
village = [i for i, q in enumerate(qa) if q["view"] >= a.generated]
by_type = {}
for i, q in enumerate(qa):
    if q["view"] < a.generated:
        by_type.setdefault(q["type"], []).append(i)


def take(pool, n, what):
    if n > len(pool):
        raise SystemExit(f"{what}: asked for {n}, there are {len(pool)}")
    return rng.sample(pool, n)


pick = take(village, a.village, "village questions")
for t, idx in by_type.items():  # in the order the types first come
    pick += take(idx, int(per.get(t, per["other"])), f"{t} questions")
rows = [lines[i] for i in pick] + take(open(f"{a.dialogue}/train.jsonl").readlines(), a.dialogue_samples, "dialogue samples")
rng.shuffle(rows)
open(f"{a.sight}/mix.jsonl", "w").writelines(rows)
nq, nd = (int(x) for x in a.val.split(","))
val = take(open(f"{a.sight}/heldout.jsonl").readlines(), nq, "held-out questions") + take(open(f"{a.dialogue}/heldout.jsonl").readlines(), nd, "held-out dialogue")
rng.shuffle(val)
open(f"{a.sight}/mixval.jsonl", "w").writelines(val)
print(json.dumps({"mix": len(rows), "village": a.village, "by_type": {t: int(per.get(t, per["other"])) for t in sorted(by_type)},
                  "dialogue": a.dialogue_samples, "mixval": len(val)}))
