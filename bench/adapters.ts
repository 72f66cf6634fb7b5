// Adapter benchmark: 16 concurrent conversations with 16 distinct rank-8 adapters on all seven
// projections, batched by the continuous-batching scheduler, against
//   - the same 16 run one after another (same adapters, same session)        → batched_vs_sequential
//   - the same 16 batched with no adapter (same session, rank-0 LoRA inputs) → adapter_overhead,
//     the median ratio of back-to-back pairs (15 on small, 9 on smol135m; --pairs N), with p25/p75
//   - the same 16 batched on a graph built without LoRA inputs (full mode)   → lora_graph_overhead
// plus the time to first token (p95) of a burst of 32 requests with adapters, and the decode step
// alone at batch 16 with and without adapters.
//
//   npm run bench:adapters [-- --quick] [-- --only small|smol135m] [-- --threads N (default: every core)]
//                          [-- --spin-us N | --spin (shared.ts spinFlag)] [-- --reps N] [-- --pairs N]
//                          [-- --onnxruntime-node (standard-operator LoRA, not the native kernel)]
//
// Models: bench/inference.ts's random models and cache (.cache/bench-models/<name>, same flags).
// Adapters are random, made in memory (speed does not depend on their values). The machine is shared
// and noisy: variants are interleaved within each repetition, ratios come from medians.
// Progress lines (with an ETA) go to stderr; the last line on stdout is one JSON object.

import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { meanEmbedding } from "../core/runtime/gate/features.ts";
import { mulberry32 } from "../core/runtime/generate/rng.ts";
import { LanguageModel } from "../core/runtime/index.ts";
import { build } from "../core/runtime/lora/batch-inputs.ts";
import { foldMixture, type FoldedLora } from "../core/runtime/lora/mixture.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { Scheduler } from "../core/runtime/scheduler/scheduler.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { alternatedDecodeSteps, BENCH_MODEL_CACHE, BENCH_MODELS, ensureBenchModel, median, Phases, nativeFlag, positiveFlag, randomPack, spinFlag } from "./shared.ts";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const ONLY = args.includes("--only") ? args[args.indexOf("--only") + 1] : null;
const THREADS = positiveFlag("threads", Math.max(1, os.availableParallelism()));
const SPIN = spinFlag();
const CACHE = BENCH_MODEL_CACHE;
const N = 16;
const RANK = 8;
const PROMPT = QUICK ? 24 : 48;
const NEW_TOKENS = QUICK ? 12 : 32;
const REPS = args.includes("--reps") ? Number(args[args.indexOf("--reps") + 1]) : QUICK ? 1 : 3;
const BURST = 32;
/** Back-to-back pairs (batched with adapters, without) for adapter_overhead; decode steps per variant. */
const PAIRS_FLAG = args.includes("--pairs") ? Number(args[args.indexOf("--pairs") + 1]) : null;
const pairsFor = (name: string) => PAIRS_FLAG ?? (QUICK ? 1 : name === "small" ? 15 : 9);
const STEPS: Record<string, number> = { small: 150, smol135m: 21 };

const phases = new Phases("bench:adapters");
const progress = (msg: string) => phases.progress(msg);
const phase = <T>(name: string, fn: () => Promise<T>) => phases.run(name, fn);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;


async function benchModel(name: string) {
  const dir = await phase(`${name}: random model (cached in ${CACHE})`, () => ensureBenchModel(name));
  const pkg = await loadModelPackage(dir, nodePackageFiles);
  const backend = nodeBackend({ threads: THREADS, spinning: SPIN, native: nativeFlag() });
  const session = await phase(`${name}: graph with LoRA inputs on all seven projections`, () => DecoderSession.create(pkg, backend, { cacheDir: join(CACHE, "graphs") }));
  const plainSession = QUICK ? null : await phase(`${name}: graph without LoRA inputs`, () => DecoderSession.create(pkg, backend, { cacheDir: join(CACHE, "graphs"), loraTargets: [] }));
  const c = session.config;
  const model = LanguageModel.fromSession(session, pkg);
  const plainModel = plainSession ? LanguageModel.fromSession(plainSession, pkg) : null;
  const loras: FoldedLora[] = Array.from({ length: BURST }, (_, k) => foldMixture([{ pack: randomPack(c, `a${k}`, 100 + k, RANK), weight: 1 }]));
  const rng = mulberry32(7);
  const prompts = Array.from({ length: BURST }, () => Array.from({ length: PROMPT }, () => 4 + Math.floor(rng.next() * (c.vocabSize - 4))));
  const opts = { maxNewTokens: NEW_TOKENS, eosTokenIds: [] as number[] };

  // One long-lived scheduler per variant, as a server runs one: its batched-input buffers are
  // allocated once (warm-up) and reused, not paid again by every measured run.
  const scheds = new Map<string, Scheduler>();
  const schedFor = (key: string, m: LanguageModel, maxBatch: number) => {
    if (!scheds.has(key)) scheds.set(key, new Scheduler(m, { maxBatch, maxQueue: 2 * BURST }));
    return scheds.get(key)!;
  };
  const runBatched = async (m: LanguageModel, withAdapters: boolean, n = N, maxBatch = N, key = `${m === model ? "lora" : "base"}-${withAdapters}-${maxBatch}`) => {
    const sched = schedFor(key, m, maxBatch);
    const t = performance.now();
    const subs = Array.from({ length: n }, (_, k) => sched.submit({ prompt: prompts[k], options: opts, lora: withAdapters ? loras[k] : null }));
    const res = await Promise.all(subs.map((s) => s.result));
    return { ms: performance.now() - t, res, stats: sched.stats.snapshot() };
  };
  const runSequential = async () => {
    const sched = schedFor("sequential", model, 1);
    const t = performance.now();
    for (let k = 0; k < N; k++) await sched.submit({ prompt: prompts[k], options: opts, lora: loras[k] }).result;
    return performance.now() - t;
  };

  await phase(`${name}: warm-up (each variant once, and one burst)`, async () => {
    await runBatched(model, true);
    await runBatched(model, false);
    if (plainModel) await runBatched(plainModel, false);
    for (let k = 0; k < 2; k++) await schedFor("sequential", model, 1).submit({ prompt: prompts[k], options: opts, lora: loras[k] }).result;
    await runBatched(model, true, BURST, BURST);
  });
  const batched: number[] = [], plain: number[] = [], base: number[] = [], seq: number[] = [];
  let tokS = 0;
  for (let rep = 0; rep < REPS; rep++) {
    // Interleaved, order rotated per repetition so drift on the machine hits every variant.
    const variants: [string, () => Promise<void>][] = [
      ["16 batched, 16 adapters", async () => { const r = await runBatched(model, true); batched.push(r.ms); tokS = r.stats.tokensPerSecond; }],
      ["16 batched, no adapter", async () => { plain.push((await runBatched(model, false)).ms); }],
      ["16 sequential, 16 adapters", async () => { seq.push(await runSequential()); }],
    ];
    if (plainModel) variants.push(["16 batched, graph without LoRA inputs", async () => { base.push((await runBatched(plainModel, false)).ms); }]);
    for (let v = 0; v < variants.length; v++) {
      const [label, fn] = variants[(v + rep) % variants.length];
      await phase(`${name}: rep ${rep + 1}/${REPS} ${label}`, fn);
    }
  }

  // adapter_overhead from back-to-back pairs (with, without; order alternating), the median of the
  // pairs' ratios: interference from other work on a shared machine comes and goes over seconds, so a
  // pair run within half a second sees the same machine, where medians of runs seconds apart did not
  // (today's ratios from those moved by ±0.1 between runs of the same code).
  const pairs: number[] = [];
  const PAIRS = pairsFor(name);
  for (let i = 0; i < PAIRS; i++) {
    await phase(`${name}: pair ${i + 1}/${PAIRS} batched with and without adapters`, async () => {
      const first = await runBatched(model, i % 2 === 0);
      const second = await runBatched(model, i % 2 !== 0);
      const [w, wo] = i % 2 === 0 ? [first.ms, second.ms] : [second.ms, first.ms];
      batched.push(w);
      plain.push(wo);
      pairs.push(w / wo);
    });
  }

  // Decode step alone at batch 16, context ~PROMPT: with 16 adapters vs rank-0 inputs.
  const stepMs = await phase(`${name}: decode step at batch 16, with and without adapters`, async () => {
    const times = await alternatedDecodeSteps(session, build(c, session.loraTargets, loras.slice(0, N))!, N, PROMPT, QUICK ? 3 : STEPS[name] ?? 11, 1);
    return { with: median(times.with), without: median(times.without) };
  });

  // The gate's prompt summary: embedding rows of a PROMPT-token prompt and their mean.
  const summaryMs = await phase(`${name}: gate prompt summary (mean token embedding)`, async () => {
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      meanEmbedding(session.embed(prompts[i % BURST]), PROMPT);
      times.push(performance.now() - t);
    }
    return median(times);
  });

  const burst = await phase(`${name}: burst of ${BURST} requests with adapters`, () => runBatched(model, true, BURST, BURST));
  const ttfts = burst.res.map((r) => r.timings.ttftMs);
  const adapterBytes = loras[0].layers.reduce((s, l) => s + Object.values(l).reduce((a, f) => a + (f!.A.length + f!.B.length) * 4, 0), 0);
  await model.release();
  await plainModel?.release();
  return {
    batched_vs_sequential: round(median(seq) / median(batched)),
    adapter_overhead: round(median(pairs), 3),
    adapter_overhead_p25_p75: [round(pct(pairs, 0.25), 3), round(pct(pairs, 0.75), 3)],
    adapter_overhead_pairs: pairs.length,
    ttft_p95_ms_burst32: round(pct(ttfts, 0.95), 0),
    ttft_p50_ms_burst32: round(pct(ttfts, 0.5), 0),
    lora_graph_overhead: base.length ? round(median(plain) / median(base), 3) : null,
    step_ms_b16_adapters: round(stepMs.with, 1),
    step_ms_b16_no_adapter: round(stepMs.without, 1),
    step_adapter_overhead: round(stepMs.with / stepMs.without, 3),
    gate_summary_ms: round(summaryMs, 3),
    batched_ms: round(median(batched), 0),
    batched_no_adapter_ms: round(median(plain), 0),
    sequential_ms: round(median(seq), 0),
    batched_tokens_per_s: round(tokS, 0),
    adapter_mb: round(adapterBytes / 2 ** 20, 1),
    conversations: N,
    prompt_tokens: PROMPT,
    new_tokens: NEW_TOKENS,
    reps: REPS,
    quick: QUICK, // one repetition and few warm-up steps: a smoke run, its ratios mean little
    threads: THREADS,
    spin_us: SPIN,
    lora_kernel: backend.loraOp === "kith" ? "kith.LoraAdd (native)" : "standard operators (onnxruntime-node)",
  };
}

async function main(): Promise<void> {
  const names = ONLY ? [ONLY] : Object.keys(BENCH_MODELS);
  for (const n of names) if (!BENCH_MODELS[n]) throw new Error(`--only ${n}: unknown model. Should be one of: ${Object.keys(BENCH_MODELS).join(", ")}`);
  phases.total = names.reduce((t, n) => t + (QUICK ? 3 : 4) + REPS * (QUICK ? 3 : 4) + pairsFor(n) + 3, 0);
  const out: Record<string, unknown> = {};
  for (const n of names) out[n] = await benchModel(n);
  progress("done");
  if (!QUICK && !ONLY) {
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/adapters.json", JSON.stringify(out, null, 2) + "\n");
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
