import { gateMood } from "../../core/prompt/mood-check.ts";
import { readFileSync } from "node:fs";
import type { GameState } from "../../core/runtime/gate/features.ts";
import { MlpGate, type Gate, type GateCandidates } from "../../core/runtime/gate/gate.ts";
import type { DecoderSession } from "../../core/runtime/session.ts";
import type { TextTokenizer } from "../../core/runtime/tokenizer.ts";
import { mulberry32 } from "../../core/runtime/generate/rng.ts";

// The gate's game state for a data sample, derived as training/train_gate.py derives it (and as
// the server does from its clock, threat flag and memory): threat 1 for a "danger: …" state line,
// the hour a state line names, else a seeded random hour; standing: the data holds none, so 0 here
// (a player the NPC neither likes nor dislikes; the trainer draws it uniformly so that the gate
// learns to ignore it, and 0 keeps the rule gate's standing rules out of the comparison). Then
// the gate's top mood against the sample's mood label, for the trained gate and the rule gate.

const HOURS: [string, number][] = [
  ["midnight", 0], ["dawn", 6], ["morning", 9], ["noon", 12], ["midday", 12], ["afternoon", 15],
  ["evening", 19], ["dusk", 20], ["night", 23],
];

export function stateHour(state: string): number | null {
  const s = state.toLowerCase();
  for (const [w, h] of HOURS) if (new RegExp(`\\b${w}\\b`).test(s)) return h;
  return null;
}

export function stateThreat(state: string): number {
  return /^\s*danger\b/i.test(state) ? 1 : 0;
}

/** Seeded uniform [0, 1) draws (the runtime's mulberry32) for the hours and standings a sample does not state. */
export function seededRandom(seed: number): () => number {
  const gen = mulberry32(seed);
  return () => gen.next();
}

export function sampleGameState(state: string, rand: () => number): GameState {
  const h = stateHour(state);
  return { timeOfDay: h ?? Math.min(23.999, rand() * 24), threat: stateThreat(state), standing: 0 };
}

export interface MoodSample {
  npc: string;
  mood: string;
  state: string;
  say: string;
  prompt: string;
}

/** Every `stride`-th sample of a data jsonl, at most `n`. */
export function readMoodSamples(path: string, n: number): MoodSample[] {
  const lines = readFileSync(path, "utf8").split("\n").filter(Boolean);
  const stride = Math.max(1, Math.floor(lines.length / Math.max(1, n)));
  const out: MoodSample[] = [];
  for (let i = 0; i < lines.length && out.length < n; i += stride) {
    const s = JSON.parse(lines[i]) as MoodSample;
    out.push({ npc: s.npc, mood: s.mood, state: s.state ?? "", say: s.say, prompt: s.prompt });
  }
  return out;
}

export interface GateAccuracy {
  accuracy: number;
  samples: number;
  /** Per mood label: recall (its samples whose top mood is right). */
  recall: Record<string, number>;
}

/**
 * Top mood of `gate` vs each sample's label. The top mood is the mood adapter with the largest
 * weight (none = calm, as the rule gate leaves a calm-less card without a mood adapter).
 */
export function gateMoodAccuracy(
  gate: Gate,
  samples: MoodSample[],
  ctx: { session: Pick<DecoderSession, "embed">; tokenizer: TextTokenizer; candidates: (npc: string) => GateCandidates; seed: number },
): GateAccuracy {
  const rand = seededRandom(ctx.seed);
  const hit = new Map<string, [number, number]>();
  let right = 0;
  for (const s of samples) {
    const state = sampleGameState(s.state, rand);
    const candidates = ctx.candidates(s.npc);
    let promptSummary: Float32Array | undefined;
    if (gate instanceof MlpGate) {
      const ids = ctx.tokenizer.encode(s.prompt, { addSpecialTokens: false });
      promptSummary = gate.summarize((x) => ctx.session.embed(x), ids);
    }
    const d = gate.decide({ candidates, state, text: s.say, promptSummary });
    const ok = (gateMood(d.weights) ?? "calm") === s.mood;
    if (ok) right++;
    const e = hit.get(s.mood) ?? [0, 0];
    e[0] += ok ? 1 : 0;
    e[1]++;
    hit.set(s.mood, e);
  }
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    accuracy: r4(right / Math.max(1, samples.length)),
    samples: samples.length,
    recall: Object.fromEntries([...hit].sort().map(([m, [a, b]]) => [m, r4(a / b)])),
  };
}
