import { AdapterError } from "../lora/errors.ts";
import type { PackageFiles } from "../model/package.ts";
import { parseSafetensors, toFloat32 } from "../model/safetensors.ts";
import { GAME_FEATURES, gameFeatures, meanEmbedding, type GameState } from "./features.ts";
import { ruleMoods } from "./rules.ts";

// The dynamic combination layer: per request, mixture weights over the adapters a character may
// use. The persona adapter always takes weight 1; the gate spreads `strength` over the mood and
// skill adapters the card allows (weights ≥ 0, summing to `strength`).
//
// Two gates, one interface:
//   MlpGate    a trained pack in adapters/gate/ (format below): softmax(MLP(features)/temperature)
//              over its outputs, restricted to the adapters this character may use;
//   RuleGate   the fallback when no trained gate exists: keywords in the player's line and the
//              game state pick a mood (rules.ts).
//
// Gate pack (adapters/gate/):
//   gate.json  {"format": "kith-gate-1", "hidden": 32, "embedding_size": H (the base model's),
//               "game_features": ["time_sin", "time_cos", "threat", "standing"],
//               "outputs": ["mood-calm", "mood-angry", ...], "temperature": 1, "strength": 0.8}
//   gate.safetensors  w1 [hidden, S+4], b1 [hidden], w2 [outputs, hidden], b2 [outputs]  (F32/F16/BF16)
//   features x = [prompt summary (S), game features (4)];  h = relu(w1·x + b1);  logits = w2·h + b2.
//   Prompt summary, by gate.json "summary":
//     "prompt" (default)   mean token embedding of the whole prompt: S = H
//     "prompt+line"        that, then the mean token embedding of the player's last line (the tokens
//                          after the last line_markers.start id up to the next line_markers.end id,
//                          e.g. <|player|> … <|end|>): S = 2H. The line is a few tokens of a prompt
//                          of hundreds, so in the whole-prompt mean an insult or a grief word is
//                          nearly invisible; on its own it is not.
//   Word cues (optional), gate.json "word_cues": {"share": 0.5, "moods": {"angry": "<regex>", …}}:
//     when the player's line matches a mood's expression (case-insensitive; the first listed that
//     matches), the mood distribution becomes (1 - share)·softmax + share·one-hot(that mood), so
//     with share ≥ 0.5 the cue's mood comes out on top. The MLP reads the character's default
//     mood and the state well but is confidently wrong on insults and grief in phrasings it never
//     saw (their embedding mean looks like small talk); a short word list is not.

export interface GateCandidates {
  persona: string | null;
  moods: string[];
  skills: string[];
}

export interface GateInput {
  candidates: GateCandidates;
  state: GameState;
  /** The player's line (the rule gate reads it). */
  text?: string;
  /** Mean token embedding of the prompt [H] (the MLP gate reads it). */
  promptSummary?: Float32Array;
}

export interface GateDecision {
  /** Adapter id → weight. */
  weights: Record<string, number>;
  source: "mlp" | "rules";
  /** Why (rules) or the top output (mlp), for logs. */
  reason: string;
}

export interface Gate {
  readonly kind: "mlp" | "rules";
  decide(input: GateInput): GateDecision;
}

export class RuleGate implements Gate {
  readonly kind = "rules";
  constructor(private readonly strength = 0.8) {}

  decide(input: GateInput): GateDecision {
    const weights: Record<string, number> = {};
    if (input.candidates.persona) weights[input.candidates.persona] = 1;
    const pick = ruleMoods(input.text ?? "", input.state, input.candidates.moods);
    for (const [id, w] of Object.entries(pick.weights)) weights[id] = (weights[id] ?? 0) + this.strength * w;
    return { weights, source: "rules", reason: pick.reason };
  }
}

export type GateSummary = "prompt" | "prompt+line";
export const GATE_SUMMARIES: readonly GateSummary[] = ["prompt", "prompt+line"];

export interface GateSpec {
  hidden: number;
  embeddingSize: number;
  outputs: string[];
  temperature: number;
  strength: number;
  /** Default "prompt". */
  summary?: GateSummary;
  /** Token ids that open and close the player's line ("prompt+line"). */
  lineMarkers?: { start: number; end: number };
  /** Word cues (gate.json "word_cues"): a matching line takes `share` of the mood decision. */
  wordCues?: { share: number; moods: { id: string; pattern: RegExp }[] };
}

/** Token ids of the last line opened by `start` in `ids` (up to the next `end`, exclusive); never empty. */
export function lastLineIds(ids: readonly number[], start: number, end: number): number[] {
  const s = ids.lastIndexOf(start);
  if (s < 0) return ids.length ? [ids[ids.length - 1]] : [];
  let e = s + 1;
  while (e < ids.length && ids[e] !== end) e++;
  return e > s + 1 ? ids.slice(s + 1, e) : [start];
}

export class MlpGate implements Gate {
  readonly kind = "mlp";
  constructor(
    readonly spec: GateSpec,
    private readonly w1: Float32Array,
    private readonly b1: Float32Array,
    private readonly w2: Float32Array,
    private readonly b2: Float32Array,
  ) {}

  /** Width of the prompt summary the gate reads: H, or 2H for "prompt+line". */
  get summaryWidth(): number {
    return this.spec.summary === "prompt+line" ? 2 * this.spec.embeddingSize : this.spec.embeddingSize;
  }

  /** The prompt summary this gate reads, from the prompt ids and the base model's embedding lookup. */
  summarize(embed: (ids: number[]) => Float32Array, promptIds: number[]): Float32Array {
    const H = this.spec.embeddingSize;
    const whole = meanEmbedding(embed(promptIds), promptIds.length);
    if (this.spec.summary !== "prompt+line") return whole;
    const m = this.spec.lineMarkers!;
    const line = lastLineIds(promptIds, m.start, m.end);
    const out = new Float32Array(2 * H);
    out.set(whole, 0);
    out.set(meanEmbedding(embed(line), line.length), H);
    return out;
  }

  /** Output logits for the features [S + 4]. */
  logits(x: Float32Array): Float32Array {
    const { hidden, outputs } = this.spec;
    const F = x.length;
    const h = new Float32Array(hidden);
    for (let j = 0; j < hidden; j++) {
      let s = this.b1[j];
      for (let i = 0; i < F; i++) s += this.w1[j * F + i] * x[i];
      h[j] = s > 0 ? s : 0;
    }
    const out = new Float32Array(outputs.length);
    for (let k = 0; k < outputs.length; k++) {
      let s = this.b2[k];
      for (let j = 0; j < hidden; j++) s += this.w2[k * hidden + j] * h[j];
      out[k] = s;
    }
    return out;
  }

  decide(input: GateInput): GateDecision {
    const H = this.summaryWidth;
    const summary = input.promptSummary;
    if (!summary || summary.length !== H) throw new Error(`gate: the MLP gate needs promptSummary of length ${H} (${this.spec.summary ?? "prompt"} summary: MlpGate.summarize), got ${summary?.length ?? "none"}`);
    const x = new Float32Array(H + GAME_FEATURES.length);
    x.set(summary, 0);
    x.set(gameFeatures(input.state), H);
    const logits = this.logits(x);
    const allowed = new Set([...input.candidates.moods, ...input.candidates.skills]);
    const idx = this.spec.outputs.map((id, k) => (allowed.has(id) ? k : -1)).filter((k) => k >= 0);
    const weights: Record<string, number> = {};
    if (input.candidates.persona) weights[input.candidates.persona] = 1;
    if (idx.length === 0) return { weights, source: "mlp", reason: "no gate output is allowed for this character" };
    const m = Math.max(...idx.map((k) => logits[k] / this.spec.temperature));
    const e = idx.map((k) => Math.exp(logits[k] / this.spec.temperature - m));
    const z = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / z);
    const cue = this.cueFor(input.text, idx);
    if (cue) p.forEach((v, j) => (p[j] = (1 - cue.share) * v + (j === cue.at ? cue.share : 0)));
    let top = 0;
    idx.forEach((k, j) => {
      const id = this.spec.outputs[k];
      weights[id] = (weights[id] ?? 0) + this.spec.strength * p[j];
      if (p[j] > p[top]) top = j;
    });
    const reason = `top ${this.spec.outputs[idx[top]]}`;
    return { weights, source: "mlp", reason: cue ? `${reason} (word cue: ${this.spec.outputs[idx[cue.at]]})` : reason };
  }

  /** The first word cue the line matches whose mood this character may use: its place in `idx`. */
  private cueFor(text: string | undefined, idx: number[]): { at: number; share: number } | undefined {
    const wc = this.spec.wordCues;
    if (!wc || !text) return undefined;
    for (const { id, pattern } of wc.moods) {
      const at = idx.findIndex((k) => this.spec.outputs[k] === id);
      if (at >= 0 && pattern.test(text)) return { at, share: wc.share };
    }
    return undefined;
  }
}

/** Loads adapters/gate/ when it exists; otherwise the rule gate. A broken gate pack throws AdapterError. */
export async function loadGate(dir: string, files: PackageFiles, embeddingSize: number): Promise<Gate> {
  const path = (n: string) => `${dir.replace(/\/+$/, "")}/${n}`;
  if (!(await files.exists(path("gate.json")))) return new RuleGate();
  const where = `gate pack (${dir})`;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(new TextDecoder().decode(await files.read(path("gate.json"))));
  } catch (e) {
    throw new AdapterError(`${where}: gate.json is not valid JSON (${(e as Error).message})`);
  }
  const bad = (f: string, why: string): never => {
    throw new AdapterError(`${where}: gate.json "${f}" ${why}`);
  };
  if (j.format !== "kith-gate-1") bad("format", `is ${JSON.stringify(j.format)}; should be "kith-gate-1"`);
  const hidden = j.hidden;
  if (!Number.isInteger(hidden) || (hidden as number) < 1) bad("hidden", "must be a positive integer");
  if (j.embedding_size !== embeddingSize) bad("embedding_size", `is ${JSON.stringify(j.embedding_size)} but the base model's hidden size is ${embeddingSize}`);
  const gf = j.game_features ?? GAME_FEATURES;
  if (JSON.stringify(gf) !== JSON.stringify(GAME_FEATURES)) bad("game_features", `must be ${JSON.stringify(GAME_FEATURES)}`);
  const outputs = j.outputs;
  if (!Array.isArray(outputs) || outputs.length === 0 || !outputs.every((o) => typeof o === "string")) bad("outputs", "must be a non-empty list of adapter ids");
  const temperature = j.temperature ?? 1;
  if (typeof temperature !== "number" || !(temperature > 0)) bad("temperature", "must be a positive number");
  const strength = j.strength ?? 0.8;
  if (typeof strength !== "number" || !(strength >= 0)) bad("strength", "must be a number ≥ 0");
  const summary = j.summary ?? "prompt";
  if (!(GATE_SUMMARIES as readonly unknown[]).includes(summary)) bad("summary", `is ${JSON.stringify(summary)}; should be one of ${GATE_SUMMARIES.map((x) => JSON.stringify(x)).join(", ")}`);
  let lineMarkers: GateSpec["lineMarkers"];
  if (summary === "prompt+line") {
    const lm = j.line_markers as { start?: unknown; end?: unknown } | undefined;
    if (!lm || !Number.isInteger(lm.start) || !Number.isInteger(lm.end)) bad("line_markers", `must be {"start": <token id>, "end": <token id>} for summary "prompt+line"`);
    lineMarkers = { start: lm!.start as number, end: lm!.end as number };
  }
  let wordCues: GateSpec["wordCues"];
  if (j.word_cues !== undefined) {
    const wc = j.word_cues as { share?: unknown; moods?: unknown };
    if (typeof wc !== "object" || wc === null || typeof wc.share !== "number" || !(wc.share >= 0 && wc.share <= 1)) bad("word_cues", `must be {"share": <0..1>, "moods": {"<mood>": "<regular expression>", …}}`);
    if (typeof wc.moods !== "object" || wc.moods === null || Array.isArray(wc.moods)) bad("word_cues.moods", `must be an object of mood → regular expression`);
    const moods: { id: string; pattern: RegExp }[] = [];
    for (const [mood, src] of Object.entries(wc.moods as Record<string, unknown>)) {
      const id = `mood-${mood}`;
      if (!(outputs as string[]).includes(id)) bad(`word_cues.moods.${mood}`, `names a mood the gate has no output for (outputs: ${(outputs as string[]).join(", ")})`);
      if (typeof src !== "string") bad(`word_cues.moods.${mood}`, "must be a regular expression in a string");
      try {
        moods.push({ id, pattern: new RegExp(src as string, "i") });
      } catch (e) {
        bad(`word_cues.moods.${mood}`, `is not a valid regular expression (${(e as Error).message})`);
      }
    }
    wordCues = { share: wc.share as number, moods };
  }
  const spec: GateSpec = { hidden: hidden as number, embeddingSize, outputs: outputs as string[], temperature: temperature as number, strength: strength as number, summary: summary as GateSummary, lineMarkers, wordCues };
  if (!(await files.exists(path("gate.safetensors")))) throw new AdapterError(`${where}: gate.safetensors is missing`);
  let t;
  try {
    t = parseSafetensors(await files.read(path("gate.safetensors")), "gate.safetensors");
  } catch (e) {
    throw new AdapterError(`${where}: ${(e as Error).message}`);
  }
  const F = (summary === "prompt+line" ? 2 : 1) * embeddingSize + GAME_FEATURES.length, K = spec.outputs.length, Hd = spec.hidden;
  const get = (name: string, shape: number[]) => {
    const e = t.get(name);
    if (!e) throw new AdapterError(`${where}: gate.safetensors has no tensor "${name}" (expected shape ${JSON.stringify(shape)})`);
    if (JSON.stringify(e.shape) !== JSON.stringify(shape)) throw new AdapterError(`${where}: tensor "${name}" has shape ${JSON.stringify(e.shape)}, expected ${JSON.stringify(shape)}`);
    return toFloat32(e);
  };
  return new MlpGate(spec, get("w1", [Hd, F]), get("b1", [Hd]), get("w2", [K, Hd]), get("b2", [K]));
}
