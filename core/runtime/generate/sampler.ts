// Samplers: pick one token id from one row of (already processed) logits [V].

import type { Rng } from "./rng.ts";

/** Index of the largest logit; the lowest index wins a tie (same as torch.argmax on CPU). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  let bestVal = logits[0];
  for (let i = 1; i < logits.length; i++) {
    if (logits[i] > bestVal) {
      bestVal = logits[i];
      best = i;
    }
  }
  return best;
}

/**
 * Draws an id from softmax(logits) with one uniform number from `rng`. Tokens at -Infinity have
 * probability 0. Exactly one rng draw per call, so a seeded run replays token by token.
 */
export function sampleFromLogits(logits: Float32Array, rng: Rng): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  if (max === -Infinity) throw new Error("sampler: every token was removed by the logits processors");
  if (!Number.isFinite(max)) throw new Error(`sampler: logits contain ${max}`);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const u = rng.next() * sum;
  let cum = 0;
  let lastPossible = -1;
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp(logits[i] - max);
    if (w === 0) continue;
    cum += w;
    lastPossible = i;
    if (u < cum) return i;
  }
  // Rounding can leave u a hair above the running sum; the last token with weight > 0 is right then.
  return lastPossible;
}
