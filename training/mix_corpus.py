"""Concatenate tokenized corpora (npm run tokenize output) into one, for training on a mix.

    /usr/bin/python3 training/mix_corpus.py --out data/mix data/train data/cf

Writes <out>.ids.u16, .mask.u8, .offsets.u32 and .meta.json (counts summed, per-sample columns
concatenated, `parts` listing the sources and their sample counts). The trainer's sampler
shuffles, so the order of parts does not matter.
"""
import json
import sys

import numpy as np


def main(argv):
    if len(argv) < 4 or argv[0] != "--out":
        raise SystemExit("usage: mix_corpus.py --out PREFIX PART [PART ...]")
    out, parts = argv[1], argv[2:]
    ids, masks, offs, metas, base = [], [], [np.zeros(1, dtype=np.int64)], [], 0
    for p in parts:
        i = np.fromfile(p + ".ids.u16", dtype="<u2")
        m = np.fromfile(p + ".mask.u8", dtype="u1")
        o = np.fromfile(p + ".offsets.u32", dtype="<u4").astype(np.int64)
        if len(i) != len(m) or o[-1] != len(i):
            raise SystemExit(f"{p}: ids, mask and offsets disagree")
        ids.append(i)
        masks.append(m)
        offs.append(o[1:] + base)
        base += len(i)
        metas.append(json.load(open(p + ".meta.json")))
    if base >= 2 ** 32:
        raise SystemExit("mix is too large for u32 offsets")
    np.concatenate(ids).astype("<u2").tofile(out + ".ids.u16")
    np.concatenate(masks).astype("u1").tofile(out + ".mask.u8")
    np.concatenate(offs).astype("<u4").tofile(out + ".offsets.u32")
    cols = {k: sum((m["columns"][k] for m in metas), []) for k in metas[0]["columns"]}
    meta = {"samples": sum(m["samples"] for m in metas), "tokens": int(base),
            "longest": max(m["longest"] for m in metas), "vocab": metas[0]["vocab"], "tokenizer": metas[0]["tokenizer"],
            "parts": [{"prefix": p, "samples": m["samples"]} for p, m in zip(parts, metas)], "columns": cols}
    json.dump(meta, open(out + ".meta.json", "w"))
    print(json.dumps({k: meta[k] for k in ("samples", "tokens", "parts")}))


if __name__ == "__main__":
    main(sys.argv[1:])
