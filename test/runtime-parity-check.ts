import type { DecoderSession, ForwardResult } from "../core/runtime/session.ts";

// Browser-safe parity helpers (no Node imports): a greedy loop over DecoderSession and comparison
// with a PyTorch reference dump. Used by the Node and the browser parity suites.

export interface Reference {
  vocab: number;
  prompts: { ids: number[]; tokens: number[]; logits: number[][] }[];
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function argmax(a: ArrayLike<number>, from = 0, to = a.length): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (a[i] > a[best]) best = i;
  return best - from;
}

/** Prefill one prompt then `steps` greedy cached decode steps; logits per step (prefill: [T*V]). */
export async function greedyOne(s: DecoderSession, ids: number[], steps: number): Promise<{ tokens: number[]; logits: Float32Array[] }> {
  const V = s.config.vocabSize;
  const T = ids.length;
  let r: ForwardResult = await s.forward({
    inputsEmbeds: s.embed(ids),
    batch: 1,
    seqLen: T,
    positionIds: BigInt64Array.from(ids, (_, i) => BigInt(i)),
    attentionMask: new BigInt64Array(T).fill(1n),
    past: null,
  });
  const logits = [r.logits];
  const tokens: number[] = [];
  for (let step = 0; step < steps; step++) {
    const tok = argmax(r.logits, r.logits.length - V);
    tokens.push(tok);
    const S = r.present.length;
    r = await s.forward({
      inputsEmbeds: s.embed([tok]),
      batch: 1,
      seqLen: 1,
      positionIds: BigInt64Array.of(BigInt(S)),
      attentionMask: new BigInt64Array(S + 1).fill(1n),
      past: r.present,
    });
    logits.push(r.logits);
  }
  return { tokens, logits };
}

/** Compare a session with a reference: worst logit difference over prefill + steps, token agreement. */
export async function checkAgainstReference(s: DecoderSession, ref: Reference): Promise<{ maxDiff: number; tokensEqual: boolean; steps: number }> {
  let maxDiff = 0;
  let tokensEqual = true;
  let steps = 0;
  for (const p of ref.prompts) {
    const got = await greedyOne(s, p.ids, p.tokens.length);
    got.logits.forEach((l, i) => (maxDiff = Math.max(maxDiff, maxAbsDiff(l, p.logits[i]))));
    tokensEqual &&= JSON.stringify(got.tokens) === JSON.stringify(p.tokens);
    steps += got.logits.length;
  }
  return { maxDiff, tokensEqual, steps };
}


/** How close an int8 session is to the f32 one on a prefill: cosine of all logits and the share of
 *  positions whose argmax agrees. */
export async function compareQuantized(f32: DecoderSession, int8: DecoderSession, ids: number[]): Promise<{ cosine: number; top1Agreement: number }> {
  const T = ids.length, V = f32.config.vocabSize;
  const req = { inputsEmbeds: f32.embed(ids), batch: 1, seqLen: T, positionIds: BigInt64Array.from(ids, (_, i) => BigInt(i)), attentionMask: new BigInt64Array(T).fill(1n), past: null };
  const a = (await f32.forward(req)).logits, b = (await int8.forward(req)).logits;
  let dot = 0, na = 0, nb = 0, agree = 0;
  for (let i = 0; i < a.length; i++) (dot += a[i] * b[i]), (na += a[i] * a[i]), (nb += b[i] * b[i]);
  for (let t = 0; t < T; t++) if (argmax(a, t * V, (t + 1) * V) === argmax(b, t * V, (t + 1) * V)) agree++;
  return { cosine: dot / Math.sqrt(na * nb), top1Agreement: agree / T };
}
