"""The tokenized corpus as written by `npm run tokenize`, memory-mapped, and batches drawn from it.

Files for a prefix p: p.ids.u16 (token ids, samples back to back), p.mask.u8 (1 on completion
tokens), p.offsets.u32 (n+1 sample starts, in tokens). Every sample is one row of a batch (samples
are <= 451 tokens with the default tokenizer, so a row never needs cutting); rows are right-padded,
which a causal model never attends to, so no attention mask is needed. To waste little on padding,
batches are cut from a pool of 32 batches' worth of samples sorted by length (length bucketing).
"""
import os

import numpy as np
import torch

PAD_ID = 0  # <|pad|>
NPC_ID = 7  # <|npc|>
END_ID = 8  # <|end|>


def mark_history_turns(ids, mask):
    """Sets mask = 2 on the earlier NPC turns of a sample (the tokens after each <|npc|> up to and
    including its <|end|>), leaving the final reply's 1s alone. Earlier NPC lines are written by
    the same engine as the reply (mood tag, voice, tags), so they are valid targets too."""
    starts = np.flatnonzero(ids == NPC_ID)
    for s in starts:
        if mask[s + 1 : s + 2].any():
            continue  # the final reply (already marked)
        ends = np.flatnonzero(ids[s + 1 :] == END_ID)
        if len(ends) == 0:
            continue
        e = s + 1 + int(ends[0])
        mask[s + 1 : e + 1] = np.where(mask[s + 1 : e + 1] == 0, 2, mask[s + 1 : e + 1])


class TokenizedCorpus:
    def __init__(self, prefix):
        for ext in (".ids.u16", ".mask.u8", ".offsets.u32"):
            if not os.path.exists(prefix + ext):
                raise SystemExit(f"{prefix}{ext}: not found (run `npm run tokenize -- --in {prefix}.jsonl --out {prefix}`)")
        self.prefix = prefix
        self.ids = np.memmap(prefix + ".ids.u16", dtype="<u2", mode="r")
        self.mask = np.memmap(prefix + ".mask.u8", dtype="u1", mode="r")
        self.offsets = np.fromfile(prefix + ".offsets.u32", dtype="<u4").astype(np.int64)
        if len(self.ids) != len(self.mask) or self.offsets[-1] != len(self.ids):
            raise SystemExit(f"{prefix}: ids ({len(self.ids)}), mask ({len(self.mask)}) and offsets (end {self.offsets[-1]}) disagree")
        self.lengths = np.diff(self.offsets)

    def __len__(self):
        return len(self.offsets) - 1

    def batch(self, indices, context, history_turns=False):
        """Samples `indices` -> ids (B, T) int64, loss mask (B, T) uint8 where T = longest (<= context):
        1 on the reply, with `history_turns` 2 on earlier NPC turns, else 0.
        A sample longer than `context` keeps its last `context` tokens (the completion is at the end)."""
        lens = [min(int(self.lengths[i]), context) for i in indices]
        T = max(lens)
        ids = np.full((len(indices), T), PAD_ID, dtype=np.int64)
        mask = np.zeros((len(indices), T), dtype=np.uint8)
        for r, (i, n) in enumerate(zip(indices, lens)):
            end = int(self.offsets[i + 1])
            ids[r, :n] = self.ids[end - n : end]
            mask[r, :n] = self.mask[end - n : end]
            if history_turns:
                mark_history_turns(ids[r, :n], mask[r, :n])
        return torch.from_numpy(ids), torch.from_numpy(mask)


class BucketedSampler:
    """Endless stream of index batches: shuffled epochs, batches of similar length. Seeded."""

    def __init__(self, corpus, batch_size, seed, pool_batches=32):
        self.corpus, self.B, self.pool = corpus, batch_size, pool_batches * batch_size
        self.rng = np.random.default_rng(seed)
        self.order, self.pos, self.pending, self.epoch = self.rng.permutation(len(corpus)), 0, [], 0

    def state(self):
        return {"rng": self.rng.bit_generator.state, "order": self.order, "pos": self.pos, "pending": self.pending, "epoch": self.epoch}

    def load_state(self, s):
        self.rng.bit_generator.state = s["rng"]
        self.order, self.pos, self.pending, self.epoch = s["order"], s["pos"], s["pending"], s["epoch"]

    def next(self):
        if not self.pending:
            if self.pos >= len(self.order):
                self.order, self.pos = self.rng.permutation(len(self.corpus)), 0
                self.epoch += 1
            pool = self.order[self.pos : self.pos + self.pool]
            self.pos += len(pool)
            pool = pool[np.argsort(self.corpus.lengths[pool], kind="stable")]
            batches = [pool[i : i + self.B].tolist() for i in range(0, len(pool), self.B)]
            self.rng.shuffle(batches)
            self.pending = batches
        return self.pending.pop()
