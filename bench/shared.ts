// Pieces every runtime benchmark shares: the two random model shapes (built once with
// training/make_random_model.py and cached), and progress lines with an ETA on stderr.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEFAULT_SPIN_US } from "../core/runtime/backend-node.ts";
import { mulberry32 } from "../core/runtime/generate/rng.ts";
import type { AdapterLayers, AdapterPack } from "../core/runtime/lora/pack.ts";
import type { ModelConfig } from "../core/runtime/model/config.ts";
import { loraDims } from "../core/runtime/onnx/decoder-graph.ts";
import { type DecoderSession, LORA_TARGETS, type LoraInputs } from "../core/runtime/session.ts";

export const BENCH_MODEL_CACHE = ".cache/bench-models";

/** make_random_model.py flags per benchmark shape. */
export const BENCH_MODELS: Record<string, string[]> = {
  // ~5M parameters (embedding 1M + 6 layers × 0.67M).
  small: ["--vocab", "4096", "--hidden", "256", "--layers", "6", "--heads", "4", "--kv-heads", "2", "--intermediate", "704"],
  // SmolLM-135M's shape, tied embeddings.
  smol135m: ["--vocab", "49152", "--hidden", "576", "--layers", "30", "--heads", "9", "--kv-heads", "3", "--intermediate", "1536"],
};

/** The model folder for `name`, made on first use (seed 0) and reused after. */
export async function ensureBenchModel(name: string): Promise<string> {
  const flags = BENCH_MODELS[name];
  if (!flags) throw new Error(`unknown benchmark model "${name}"; valid: ${Object.keys(BENCH_MODELS).join(", ")}`);
  const dir = join(BENCH_MODEL_CACHE, name);
  if (existsSync(join(dir, "config.json")) && existsSync(join(dir, "model.safetensors"))) return dir;
  mkdirSync(BENCH_MODEL_CACHE, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await promisify(execFile)("/usr/bin/python3", ["training/make_random_model.py", "--out", tmp, "--seed", "0", ...flags], { maxBuffer: 1 << 24 });
  renameSync(tmp, dir);
  return dir;
}

/** Counts phases and prints `[label Ns done/total ETA ~Ms] message`; the ETA is the mean phase cost × phases left. */
export class Phases {
  total = 0;
  private done = 0;
  private costs: number[] = [];
  private readonly t0 = performance.now();

  constructor(private readonly label: string) {}

  progress(msg: string): void {
    const avg = this.costs.length ? this.costs.reduce((a, b) => a + b, 0) / this.costs.length : 0;
    const eta = avg ? ` ETA ~${Math.round(avg * (this.total - this.done))}s` : "";
    const elapsed = ((performance.now() - this.t0) / 1000).toFixed(0);
    process.stderr.write(`[${this.label} ${elapsed}s ${this.done}/${this.total}${eta}] ${msg}\n`);
  }

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.progress(`${name} ...`);
    const s = performance.now();
    const r = await fn();
    this.costs.push((performance.now() - s) / 1000);
    this.done++;
    return r;
  }
}

/** `--name N` from the command line: a positive number, else `fallback`; a bad value exits with a message. */
export function positiveFlag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} needs a positive number, got ${JSON.stringify(process.argv[i + 1])}`);
    process.exit(2);
  }
  return value;
}

/** How the model's idle onnxruntime threads wait (nodeBackend's `spinning`): `--spin-us N` spins N µs
 *  then sleeps (0: sleep at once), `--spin` spins without limit (onnxruntime's own default, which on
 *  shared cores steals the time the work needs); neither: DEFAULT_SPIN_US. A bad N exits with a message. */
export function spinFlag(): boolean | number {
  const i = process.argv.indexOf("--spin-us");
  if (i < 0) return process.argv.includes("--spin") || DEFAULT_SPIN_US;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--spin-us needs a whole number of microseconds, got ${JSON.stringify(process.argv[i + 1])}`);
    process.exit(2);
  }
  return value;
}

/** The middle value (the upper one of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** --onnxruntime-node: run on onnxruntime-node with standard-operator LoRA (no native kith.LoraAdd
 *  kernel); default: the native binding, as the server runs when it is built (an error if it is not). */
export function nativeFlag(): boolean {
  return !process.argv.includes("--onnxruntime-node");
}

/** Players farther than this from the village centre (m, along x or z) turn back toward it. */
export const BORDER_TURN = 30;

/** A wandering player's heading and pace (bench:world's bots, bench:tick's players). */
export interface Wanderer {
  yaw: number;
  run: boolean;
  /** When to turn next, s. */
  nextTurn: number;
}

/**
 * One step of a wandering player, as players exploring a village do: straight lines with random
 * turns every 1-4 s, 30% of them running; beyond BORDER_TURN m it heads back toward the middle
 * (yaw 0 faces +z) and wanders again after 4-5 s, instead of pressing into the border wall.
 * `me` undefined (position not known yet): no border check.
 */
export function wander(w: Wanderer, me: { x: number; z: number } | undefined, nowS: number, random: () => number): void {
  if (me !== undefined && Math.max(Math.abs(me.x), Math.abs(me.z)) > BORDER_TURN && nowS >= w.nextTurn - 3) {
    w.yaw = Math.atan2(-me.x, -me.z) + (random() - 0.5);
    w.nextTurn = nowS + 4 + random();
  } else if (nowS >= w.nextTurn) {
    w.yaw += (random() - 0.5) * 2;
    w.run = random() < 0.3;
    w.nextTurn = nowS + 1 + random() * 3;
  }
}

/** A random rank-`rank` adapter on all seven projections of every layer, in the runtime layout
 *  (speed does not depend on the values). */
export function randomPack(c: ModelConfig, id: string, seed: number, rank: number): AdapterPack {
  const rng = mulberry32(seed);
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * s);
  const layers: AdapterLayers = [];
  let bytes = 0;
  for (let i = 0; i < c.numLayers; i++) {
    const layer: AdapterLayers[number] = {};
    for (const t of LORA_TARGETS) {
      const d = loraDims(c, t);
      layer[t] = { rank, A: rand(d.in * rank, 0.1), B: rand(rank * d.out, 0.1) };
      bytes += (d.in + d.out) * rank * 4;
    }
    layers.push(layer);
  }
  const peft = { r: rank, loraAlpha: rank, useRslora: false, targetModules: "all-linear", excludeModules: null, layersToTransform: null, layersPattern: null, rankPattern: {}, alphaPattern: {}, fanInFanOut: false, baseModelNameOrPath: null };
  return { id, dir: "(memory)", meta: { kind: "character", name: id, version: "1", baseModel: null }, peft, layers, bytes, contentHash: id, modules: c.numLayers * 7, maxRank: rank };
}

/** One decode step at `batch` rows and context `context` (constant inputs), run `warmUp + steps`
 *  times with `lora` and with none (rank-0 inputs) in turn; the times of the last `steps` of each. */
export async function alternatedDecodeSteps(session: DecoderSession, lora: LoraInputs, batch: number, context: number, steps: number, warmUp: number, onStep?: (i: number) => void): Promise<{ with: number[]; without: number[] }> {
  const c = session.config;
  const past = { batch, length: context, key: [] as Float32Array[], value: [] as Float32Array[] };
  for (let i = 0; i < c.numLayers; i++) {
    past.key.push(new Float32Array(batch * c.numKvHeads * context * c.headDim).fill(0.01));
    past.value.push(new Float32Array(batch * c.numKvHeads * context * c.headDim).fill(0.01));
  }
  const req = {
    inputsEmbeds: new Float32Array(batch * c.hiddenSize).fill(0.1), batch, seqLen: 1, positionIds: new BigInt64Array(batch).fill(BigInt(context)),
    attentionMask: new BigInt64Array(batch * (context + 1)).fill(1n), past, logits: "last" as const,
  };
  const out = { with: [] as number[], without: [] as number[] };
  for (let i = 0; i < warmUp + steps; i++) {
    let t = performance.now();
    await session.forward({ ...req, lora });
    if (i >= warmUp) out.with.push(performance.now() - t);
    t = performance.now();
    await session.forward(req);
    if (i >= warmUp) out.without.push(performance.now() - t);
    onStep?.(i);
  }
  return out;
}
