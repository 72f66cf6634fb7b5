// A small deterministic PRNG so seeded sampling is reproducible on every platform (Math.random is
// neither seedable nor specified). mulberry32: 32-bit state, period 2^32, good enough for drawing
// one token per step; not for cryptography.

export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
}

export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      // 32 random bits → [0, 1) with 2^-32 resolution.
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A seed for callers that did not give one (still recorded in the result so a run can be replayed). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296) >>> 0;
}
