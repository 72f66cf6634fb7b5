// Where the adapters' share of a decode step goes: one decode step at batch 16 (context 48) with 16
// distinct random adapters against the same step with none (rank-0 LoRA inputs), steps alternated,
// medians. Variants that tell bytes from per-call cost:
//   --rank N          adapter rank (default 8)
//   --same-factors    every layer reads layer 0's factors, so the adapters' bytes stay in cache
//   --int8            int8 base weights (a quarter of the base's bytes)
//   --steps N         steps per variant (default 150)   --only small|smol135m (default small)
//   --threads N, --spin-us N | --spin                   as in bench:adapters
//
//   npx tsx bench/adapter-step.ts [flags]      last stdout line: one JSON object
//
// Findings and the figures they gave: core/runtime/README.md ("What bounds it").

import { join } from "node:path";
import os from "node:os";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { build } from "../core/runtime/lora/batch-inputs.ts";
import { foldMixture } from "../core/runtime/lora/mixture.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { alternatedDecodeSteps, BENCH_MODEL_CACHE, BENCH_MODELS, ensureBenchModel, median, Phases, nativeFlag, positiveFlag, randomPack, spinFlag } from "./shared.ts";

const args = process.argv.slice(2);
const NAME = args.includes("--only") ? args[args.indexOf("--only") + 1] : "small";
const RANK = positiveFlag("rank", 8);
const STEPS = positiveFlag("steps", 150);
const THREADS = positiveFlag("threads", Math.max(1, os.availableParallelism()));
const SAME = args.includes("--same-factors");
const INT8 = args.includes("--int8");
const N = 16, P = 48;
if (!BENCH_MODELS[NAME]) {
  console.error(`--only ${NAME}: unknown model. Should be one of: ${Object.keys(BENCH_MODELS).join(", ")}`);
  process.exit(2);
}
if (!Number.isInteger(RANK)) {
  console.error(`--rank needs a whole number, got ${RANK}`);
  process.exit(2);
}


async function main(): Promise<void> {
  const phases = new Phases("bench:adapter-step");
  phases.total = 3;
  const dir = await phases.run(`${NAME}: random model`, () => ensureBenchModel(NAME));
  const pkg = await loadModelPackage(dir, nodePackageFiles);
  const backend = nodeBackend({ threads: THREADS, spinning: spinFlag(), native: nativeFlag() });
  const session = await phases.run(`${NAME}: graph${INT8 ? " (int8 weights)" : ""}`, () =>
    DecoderSession.create(pkg, backend, { cacheDir: join(BENCH_MODEL_CACHE, "graphs"), ...(INT8 ? { quantize: "int8" as const } : {}) }),
  );
  const c = session.config;
  const loras = Array.from({ length: N }, (_, k) => foldMixture([{ pack: randomPack(c, `a${k}`, 100 + k, RANK), weight: 1 }]));
  const lora = build(c, session.loraTargets, loras)!;
  if (SAME) for (let i = 1; i < lora.length; i++) lora[i] = lora[0];
  const { with: withA, without } = await phases.run(`${NAME}: ${STEPS} steps each, alternated`, () =>
    alternatedDecodeSteps(session, lora, N, P, STEPS, 2, (i) => i % 50 === 0 && phases.progress(`step ${i}/${STEPS + 2}`)));
  await session.release();
  const w = median(withA), wo = median(without);
  console.log(JSON.stringify({
    model: NAME, rank: RANK, same_factors: SAME, int8: INT8, threads: THREADS, steps: STEPS,
    step_ms_adapters: +w.toFixed(3), step_ms_no_adapter: +wo.toFixed(3), extra_ms: +(w - wo).toFixed(3), ratio: +(w / wo).toFixed(3),
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
