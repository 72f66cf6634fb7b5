// Logits processors: small in-place transforms of one row of next-token logits (Float32Array [V]).
// A removed token gets -Infinity, so the sampler never picks it and softmax gives it probability 0.
// Order for a step (same as Hugging Face): repetition penalty → temperature → top-k → top-p.

import type { GenerationConfig } from "./config.ts";

export interface LogitsProcessor {
  /** logits: [V] for one row, changed in place. seen: ids already in this row (prompt + output). */
  (logits: Float32Array, seen: ReadonlySet<number>): void;
}

/**
 * CTRL repetition penalty (Keskar et al. 2019): for every id already seen, a positive logit is divided
 * by `penalty` and a negative one multiplied by it, so the token always becomes less likely when
 * penalty > 1.
 */
export function repetitionPenalty(penalty: number): LogitsProcessor {
  return (logits, seen) => {
    for (const id of seen) {
      if (id < 0 || id >= logits.length) continue;
      const x = logits[id];
      logits[id] = x > 0 ? x / penalty : x * penalty;
    }
  };
}

export function temperature(t: number): LogitsProcessor {
  const inv = 1 / t;
  return (logits) => {
    for (let i = 0; i < logits.length; i++) logits[i] *= inv;
  };
}

/**
 * Keeps the k largest logits; ties with the k-th value are kept too (so the result never depends on
 * the order of equal logits). O(V·log k) with a min-heap of size k.
 */
export function topK(k: number): LogitsProcessor {
  return (logits) => {
    if (k <= 0 || k >= logits.length) return;
    const threshold = kthLargest(logits, k);
    for (let i = 0; i < logits.length; i++) if (logits[i] < threshold) logits[i] = -Infinity;
  };
}

/**
 * Nucleus filter (Holtzman et al. 2019): sorts tokens by probability, keeps the shortest prefix whose
 * probability sums to ≥ p (always at least the most likely token), removes the rest.
 */
export function topP(p: number): LogitsProcessor {
  return (logits) => {
    if (p >= 1) return;
    // Only finite logits are candidates (top-k may already have removed most of the vocabulary).
    const idx: number[] = [];
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++) {
      const x = logits[i];
      if (x !== -Infinity) {
        idx.push(i);
        if (x > max) max = x;
      }
    }
    if (idx.length <= 1) return;
    let sum = 0;
    for (const i of idx) sum += Math.exp(logits[i] - max);
    idx.sort((a, b) => logits[b] - logits[a] || a - b);
    let cum = 0;
    let keep = 0;
    while (keep < idx.length) {
      cum += Math.exp(logits[idx[keep]] - max) / sum;
      keep++;
      if (cum >= p) break;
    }
    // Ties with the last kept token stay in (order among equal logits must not matter).
    const last = logits[idx[keep - 1]];
    while (keep < idx.length && logits[idx[keep]] === last) keep++;
    for (let j = keep; j < idx.length; j++) logits[idx[j]] = -Infinity;
  };
}

/** The processors a config asks for, in order. Greedy decoding only uses the repetition penalty. */
export function processorsFor(cfg: GenerationConfig): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (cfg.repetitionPenalty !== 1) list.push(repetitionPenalty(cfg.repetitionPenalty));
  if (cfg.doSample) {
    if (cfg.temperature !== 1) list.push(temperature(cfg.temperature));
    if (cfg.topK > 0) list.push(topK(cfg.topK));
    if (cfg.topP < 1) list.push(topP(cfg.topP));
  }
  return list;
}

/** k-th largest value of xs (1-based k ≤ xs.length), via a min-heap holding the k largest seen. */
export function kthLargest(xs: Float32Array, k: number): number {
  const heap = new Float64Array(k);
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (n < k) {
      // sift up
      let c = n++;
      heap[c] = x;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (heap[parent] <= heap[c]) break;
        const t = heap[parent];
        heap[parent] = heap[c];
        heap[c] = t;
        c = parent;
      }
    } else if (x > heap[0]) {
      // replace the root (smallest of the k largest) and sift down
      heap[0] = x;
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        const r = l + 1;
        let m = c;
        if (l < k && heap[l] < heap[m]) m = l;
        if (r < k && heap[r] < heap[m]) m = r;
        if (m === c) break;
        const t = heap[m];
        heap[m] = heap[c];
        heap[c] = t;
        c = m;
      }
    }
  }
  return heap[0];
}
