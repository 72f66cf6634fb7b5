// Inference benchmark: decode tokens/s at batch 1/4/16, prefill tokens/s, time to first token for a
// 256-token prompt, process RSS, and how close a decode step gets to this machine's roofline.
//
//   npm run bench:inference [-- --quick] [-- --only small|smol135m] [-- --profile]
//
// Models are random (training/make_random_model.py), cached under .cache/bench-models/: speed does
// not depend on the weights' values. The roofline needs two numbers of this machine, measured here
// with onnxruntime itself on the same thread count as the decoder: matmul FLOP/s (a large MatMul)
// and memory bandwidth (ReduceSum over a 512 MB tensor). Lower bound of one decode step =
// max(FLOPs ÷ FLOP/s, bytes read ÷ bandwidth); roofline ratio = lower bound ÷ fastest measured step
// (peaks and steps are both best-of, so other processes on the cores skew neither side).
// Progress lines go to stderr; the last line on stdout is one JSON object.

import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as ort from "onnxruntime-node";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { LanguageModel } from "../core/runtime/index.ts";
import type { ModelConfig } from "../core/runtime/model/config.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { GraphBuilder } from "../core/runtime/onnx/graph.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { mulberry32 } from "../core/runtime/generate/rng.ts";
import { BENCH_MODEL_CACHE, BENCH_MODELS, ensureBenchModel, median, Phases, spinFlag } from "./shared.ts";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const PROFILE = args.includes("--profile");
// How idle intra-op threads wait (nodeBackend's `spinning`): `--spin-us N` spins N µs, then sleeps
// (default DEFAULT_SPIN_US, as nodeBackend); `--spin` spins without limit (onnxruntime's own
// default, which on shared cores steals the time the work needs); `--spin-us 0` sleeps at once.
const SPIN = spinFlag();
const ONLY = args.includes("--only") ? args[args.indexOf("--only") + 1] : null;
// Internal: measure the machine peaks and print them (run in a child so its 512 MB buffer and
// sessions never count in the models' RSS).
const MACHINE_ONLY = args.includes("--machine-only");
const THREADS = Math.max(1, os.availableParallelism());
const CACHE = BENCH_MODEL_CACHE;


const DECODE_STEPS = QUICK ? 8 : 48;
const DECODE_PROMPT = 32;
const RUNS = QUICK ? 1 : 3;

// ---------- progress with ETA ----------
const phases = new Phases("bench");
const progress = (msg: string) => phases.progress(msg);
const phase = <T>(name: string, fn: () => Promise<T>) => phases.run(name, fn);

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// ---------- machine ----------
const SPIN_OPTIONS = { extra: nodeBackend({ spinning: SPIN }).sessionOptions!.extra };

async function ortSession(g: GraphBuilder): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(g.serialize("bench"), {
    executionProviders: ["cpu"],
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    ...SPIN_OPTIONS,
  });
}

/** Peak f32 matmul FLOP/s of onnxruntime on this machine: best of several [M,K]×[K,N] runs. */
async function measureMatmul(): Promise<number> {
  const M = 512, K = 1024, N = 1024;
  const g = new GraphBuilder("bench_matmul");
  const a = g.input("a", "float32", [M, K]);
  const r = mulberry32(1);
  const w = Float32Array.from({ length: K * N }, () => r.next() - 0.5);
  g.op("MatMul", [a, g.init("w", "float32", [K, N], w)], {}, "y");
  g.output("y", "float32", [M, N]);
  const s = await ortSession(g);
  const feed = { a: new ort.Tensor("float32", Float32Array.from({ length: M * K }, () => r.next() - 0.5), [M, K]) };
  let best = Infinity;
  for (let i = 0; i < (QUICK ? 4 : 25); i++) {
    const t = performance.now();
    await s.run(feed);
    if (i > 0) best = Math.min(best, performance.now() - t);
  }
  await s.release();
  return (2 * M * K * N) / (best / 1000);
}

/** Memory bandwidth, bytes/s: onnxruntime ReduceSum over 512 MB (and a plain JS loop, one thread). */
async function measureBandwidth(): Promise<{ ort: number; js: number }> {
  const n = (QUICK ? 128 : 512) * 1024 * 1024 / 4;
  const x = new Float32Array(n).fill(1);
  const g = new GraphBuilder("bench_bandwidth");
  const xi = g.input("x", "float32", [n]);
  g.op("ReduceSum", [xi], { keepdims: { i: 0 } }, "s");
  g.output("s", "float32", []);
  const s = await ortSession(g);
  const feed = { x: new ort.Tensor("float32", x, [n]) };
  let best = Infinity;
  for (let i = 0; i < (QUICK ? 4 : 8); i++) {
    const t = performance.now();
    const out = await s.run(feed);
    if (Math.abs((out.s.data as Float32Array)[0] - n) > n * 1e-3 && i === 0) progress(`ReduceSum gave ${(out.s.data as Float32Array)[0]}, expected ${n}`);
    if (i > 0) best = Math.min(best, performance.now() - t);
  }
  await s.release();
  let bestJs = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (let j = 0; j < n; j += 4) {
      a0 += x[j];
      a1 += x[j + 1];
      a2 += x[j + 2];
      a3 += x[j + 3];
    }
    if (a0 + a1 + a2 + a3 !== n) throw new Error("bandwidth: JS sum is wrong");
    bestJs = Math.min(bestJs, performance.now() - t);
  }
  return { ort: (n * 4) / (best / 1000), js: (n * 4) / (bestJs / 1000) };
}

// ---------- cost model of one decode step ----------
/** Parameters that are read by matmuls for every token (all linear layers + lm_head). */
function matmulParams(c: ModelConfig): number {
  const q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
  const perLayer = c.hiddenSize * (q + 2 * kv) + q * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize;
  return c.numLayers * perLayer + c.hiddenSize * c.vocabSize;
}
/** FLOPs and bytes of one decode step: batch B, context P (average over the timed steps). */
function stepCost(c: ModelConfig, B: number, P: number): { flops: number; bytes: number } {
  const attnFlops = c.numLayers * 2 * 2 * c.numHeads * c.headDim * P; // QKᵀ and AV
  const kvBytes = 4 * c.numLayers * 2 * c.numKvHeads * c.headDim * P; // K and V read once
  return { flops: B * (2 * matmulParams(c) + attnFlops), bytes: 4 * matmulParams(c) + B * kvBytes };
}

// ---------- per model ----------

interface ModelResult {
  params_m: number;
  decode_tok_s_b1: number;
  decode_tok_s_b4: number;
  decode_tok_s_b16: number;
  step_ms_b1: number;
  step_ms_b16: number;
  best_step_ms_b1: number;
  best_step_ms_b16: number;
  prefill_tok_s: number;
  ttft_ms_256: number;
  rss_mb: number;
  roofline_ratio_b1: number;
  roofline_ratio_b16: number;
  /** Batch 16 decoding after 256-token prompts (context ~260 instead of ~60). */
  decode_tok_s_b16_ctx256: number;
  load_ms: number;
  /** 16 rows with maxNewTokens spread over 2..DECODE_STEPS+2: whole run, compacting vs padded. */
  mixed_b16_compact_ms: number;
  mixed_b16_padded_ms: number;
}

interface Peaks {
  flops: number;
  bandwidth: number;
}

/** The model's numbers; the roofline ratios are filled in by `ratios` once the peaks are final. */
async function benchModel(name: string): Promise<{ result: ModelResult; ratios: (peaks: Peaks) => void }> {
  const dir = await phase(`${name}: make random model (cached in ${CACHE})`, () => ensureBenchModel(name));
  const tLoad = performance.now();
  const { pkg, session } = await phase(`${name}: load package, build graph, create session`, async () => {
    const pkg = await loadModelPackage(dir, nodePackageFiles);
    const backend = nodeBackend({ threads: THREADS, spinning: SPIN });
    if (PROFILE) backend.sessionOptions = { ...backend.sessionOptions, enableProfiling: true, profileFilePrefix: join(CACHE, `profile-${name}`) };
    // The base model without LoRA inputs: adapters have their own benchmark.
    const session = await DecoderSession.create(pkg, backend, { cacheDir: join(CACHE, "graphs"), loraTargets: [], onProgress: (line) => progress(`${name}: ${line}`) });
    return { pkg, session };
  });
  const loadMs = performance.now() - tLoad;
  const c = session.config;
  const model = LanguageModel.fromSession(session, pkg);
  const rng = mulberry32(7);
  // Ids above the special tokens; the values do not matter for speed.
  const randomIds = (n: number) => Array.from({ length: n }, () => 4 + Math.floor(rng.next() * (c.vocabSize - 4)));
  let rss = process.memoryUsage().rss;
  const sampleRss = () => (rss = Math.max(rss, process.memoryUsage().rss));

  const prefillTokS = await phase(`${name}: prefill 256 tokens × ${RUNS + 1}`, async () => {
    const ids = randomIds(256);
    const times: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const t = performance.now();
      await session.forward({
        inputsEmbeds: session.embed(ids),
        batch: 1,
        seqLen: 256,
        positionIds: BigInt64Array.from(ids, (_, j) => BigInt(j)),
        attentionMask: new BigInt64Array(256).fill(1n),
        past: null,
        logits: "last",
      });
      if (i > 0) times.push(performance.now() - t); // first run warms up
      sampleRss();
    }
    return 256 / (median(times) / 1000);
  });

  const ttft = await phase(`${name}: time to first token, 256-token prompt`, async () => {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await model.generate(randomIds(256), { maxNewTokens: 1, eosTokenIds: [] });
      times.push(r.timings.ttftMs);
    }
    return median(times);
  });

  // Per-step times: tokens/s from the median step (robust to a slow step when other processes take
  // the cores); the roofline ratio from the fastest step, like the machine peaks it is compared with.
  const decode: Record<number, { tokS: number; stepMs: number; bestMs: number; P: number }> = {};
  for (const B of [1, 4, 16]) {
    decode[B] = await phase(`${name}: decode batch ${B}, ${DECODE_STEPS} steps`, async () => {
      const batch = model.newBatch();
      const rows = Array.from({ length: B }, () => model.createRow(randomIds(DECODE_PROMPT), { maxNewTokens: DECODE_STEPS + 8, eosTokenIds: [] }));
      await batch.add(rows);
      for (let i = 0; i < 2; i++) await batch.step(); // warm-up
      const times: number[] = [];
      for (let i = 0; i < DECODE_STEPS; i++) {
        const t = performance.now();
        await batch.step();
        times.push(performance.now() - t);
      }
      sampleRss();
      for (const r of rows) r.abort();
      await batch.step();
      const stepMs = median(times);
      return { tokS: B / (stepMs / 1000), stepMs, bestMs: Math.min(...times), P: DECODE_PROMPT + 3 + DECODE_STEPS / 2 };
    });
  }
  // Decode cost grows with context (attention reads the whole cache; the cache itself is updated in
  // place, kv-cache.ts): batch 16 after 256-token prompts.
  const longCtx = await phase(`${name}: decode batch 16 after 256-token prompts, ${DECODE_STEPS / 4} steps`, async () => {
    const batch = model.newBatch();
    const rows = Array.from({ length: 16 }, () => model.createRow(randomIds(256), { maxNewTokens: DECODE_STEPS, eosTokenIds: [] }));
    await batch.add(rows);
    await batch.step();
    const steps = Math.max(2, DECODE_STEPS / 4);
    const t = performance.now();
    for (let i = 0; i < steps; i++) await batch.step();
    const ms = performance.now() - t;
    sampleRss();
    for (const r of rows) r.abort();
    await batch.step();
    return (16 * steps) / (ms / 1000);
  });

  // Rows of one batch that finish at different steps: compacting the cache vs keeping dead rows.
  const mixed: Record<string, number> = {};
  for (const compact of [true, false]) {
    mixed[compact ? "compact" : "padded"] = await phase(`${name}: batch 16, rows finishing at different steps, ${compact ? "compacting" : "keeping dead rows"}`, async () => {
      const batch = model.newBatch({ compact });
      const rows = Array.from({ length: 16 }, (_, i) =>
        model.createRow(randomIds(DECODE_PROMPT), { maxNewTokens: 2 + Math.round((i * DECODE_STEPS) / 15), eosTokenIds: [] }),
      );
      await batch.add(rows);
      const t = performance.now();
      await batch.run();
      return performance.now() - t;
    });
  }
  const ratio = (B: number, machine: Peaks) => {
    const { flops, bytes } = stepCost(c, B, decode[B].P);
    const bound = Math.max(flops / machine.flops, bytes / machine.bandwidth) * 1000;
    progress(`${name} b${B}: step median ${round(decode[B].stepMs, 2)} ms, fastest ${round(decode[B].bestMs, 2)} ms, bound ${round(bound, 2)} ms (${round(flops / 1e9, 2)} GFLOP, ${round(bytes / 1e6)} MB)`);
    return bound / decode[B].bestMs;
  };
  const result: ModelResult = {
    params_m: round((matmulParams(c) + (c.tieWordEmbeddings ? 0 : c.vocabSize * c.hiddenSize)) / 1e6, 2),
    decode_tok_s_b1: round(decode[1].tokS),
    decode_tok_s_b4: round(decode[4].tokS),
    decode_tok_s_b16: round(decode[16].tokS),
    step_ms_b1: round(decode[1].stepMs, 2),
    step_ms_b16: round(decode[16].stepMs, 2),
    best_step_ms_b1: round(decode[1].bestMs, 2),
    best_step_ms_b16: round(decode[16].bestMs, 2),
    prefill_tok_s: round(prefillTokS),
    ttft_ms_256: round(ttft),
    rss_mb: round(rss / 2 ** 20),
    roofline_ratio_b1: NaN,
    roofline_ratio_b16: NaN,
    decode_tok_s_b16_ctx256: round(longCtx),
    load_ms: round(loadMs),
    mixed_b16_compact_ms: round(mixed.compact),
    mixed_b16_padded_ms: round(mixed.padded),
  };
  await session.release();
  if (PROFILE) {
    const files = readdirSync(CACHE).filter((f) => f.startsWith(`profile-${name}`));
    progress(`${name}: profile files: ${files.join(", ") || "(none written)"}`);
  }
  return {
    result,
    ratios: (peaks) => {
      result.roofline_ratio_b1 = round(ratio(1, peaks), 3);
      result.roofline_ratio_b16 = round(ratio(16, peaks), 3);
    },
  };
}

function htmlTable(out: Record<string, unknown>): string {
  const machine = out.machine as Record<string, unknown>;
  const models = Object.keys(out).filter((k) => k !== "machine");
  const keys = [...new Set(models.flatMap((m) => Object.keys(out[m] as object)))];
  const cell = (v: unknown) => `<td>${v === undefined ? "" : String(v)}</td>`;
  return `<!doctype html>
<meta charset="utf-8">
<title>Kith inference benchmark</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}</style>
<h1>Kith inference benchmark</h1>
<p>${Object.entries(machine).map(([k, v]) => `${k}: <b>${v}</b>`).join(" · ")}</p>
<table>
<tr><th>metric</th>${models.map((m) => `<th>${m}</th>`).join("")}</tr>
${keys.map((k) => `<tr><td>${k}</td>${models.map((m) => cell((out[m] as Record<string, unknown>)[k])).join("")}</tr>`).join("\n")}
</table>
`;
}

async function main(): Promise<void> {
  const names = ONLY ? [ONLY] : Object.keys(BENCH_MODELS);
  for (const n of names) if (!BENCH_MODELS[n]) throw new Error(`--only ${n}: unknown model. Should be one of: ${Object.keys(BENCH_MODELS).join(", ")}`);
  phases.total = 1 + names.length * 11;
  const loadBefore = os.loadavg()[0];
  const first = await phase("machine: matmul FLOP/s (MatMul 512×1024×1024) and memory bandwidth (ReduceSum over 512 MB)", measureMachineInChild);
  const flops = first.flops;
  const bw = { ort: first.bandwidth, js: first.js };
  const machine = {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? "unknown",
    threads: THREADS,
    matmul_gflop_s: round(flops / 1e9),
    bandwidth_gb_s: round(bw.ort / 1e9, 2),
    bandwidth_js_1thread_gb_s: round(bw.js / 1e9, 2),
    onnxruntime: ort.env.versions?.common ?? "unknown",
    spinning: SPIN,
    // Other processes on the same cores make every number here slower and noisier.
    load_avg_1m_at_start: round(loadBefore, 2),
    quick: QUICK,
  };
  progress(`machine: ${JSON.stringify(machine)}`);
  const out: Record<string, unknown> = { machine };
  const pending: ((p: Peaks) => void)[] = [];
  // Peaks again after each model: other processes on the cores only ever make a measurement
  // slower, so the largest seen is the best estimate of what the machine can do.
  const peaks = { flops, bandwidth: bw.ort };
  let jsBandwidth = bw.js;
  for (const n of names) {
    const { result, ratios } = await benchModel(n);
    out[n] = result;
    pending.push(ratios);
    const again = await phase("machine: peaks again", measureMachineInChild);
    peaks.flops = Math.max(peaks.flops, again.flops);
    peaks.bandwidth = Math.max(peaks.bandwidth, again.bandwidth);
    jsBandwidth = Math.max(jsBandwidth, again.js);
  }
  Object.assign(machine, {
    matmul_gflop_s: round(peaks.flops / 1e9),
    bandwidth_gb_s: round(peaks.bandwidth / 1e9, 2),
    bandwidth_js_1thread_gb_s: round(jsBandwidth / 1e9, 2),
    load_avg_1m_at_end: round(os.loadavg()[0], 2),
  });
  for (const fill of pending) fill(peaks);
  for (const n of names) progress(`${n}: ${JSON.stringify(out[n])}`);
  mkdirSync("bench/results", { recursive: true });
  if (!QUICK && !ONLY) {
    writeFileSync("bench/results/inference.json", JSON.stringify(out, null, 2) + "\n");
    writeFileSync("bench/results/inference.html", htmlTable(out));
    progress("wrote bench/results/inference.json and inference.html");
  }
  console.log(JSON.stringify(out));
}

/** Runs this script with --machine-only in a child process; returns its peaks. */
async function measureMachineInChild(): Promise<{ flops: number; bandwidth: number; js: number }> {
  const flags = [...(QUICK ? ["--quick"] : []), ...(SPIN === true ? ["--spin"] : typeof SPIN === "number" ? ["--spin-us", String(SPIN)] : [])];
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, process.argv[1], "--machine-only", ...flags], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

async function machineOnly(): Promise<void> {
  const flops = await measureMatmul();
  const bw = await measureBandwidth();
  console.log(JSON.stringify({ flops, bandwidth: bw.ort, js: bw.js }));
}

(MACHINE_ONLY ? machineOnly() : main()).catch((e) => {
  process.stderr.write(`bench:inference failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
