// Adapters against PyTorch with PEFT's math (y = xWᵀ + s·(xAᵀ)Bᵀ): random tiny base model, random
// PEFT adapters written by training/peft_ref.py with PEFT's key names and config fields, logits
// within 1e-4, through the real ONNX session and the continuous-batching scheduler. Every check runs
// twice: on the native binding with the kith.LoraAdd kernel (what the server runs) and on
// onnxruntime-node with the standard-operator graph (the fallback, and the browser's graph).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { LanguageModel } from "../core/runtime/index.ts";
import { baseModelHash } from "../core/runtime/lora/base-hash.ts";
import { build } from "../core/runtime/lora/batch-inputs.ts";
import { foldMixture, type FoldedLora } from "../core/runtime/lora/mixture.ts";
import { loadAdapterPack, type AdapterPack, type BaseModelRef } from "../core/runtime/lora/pack.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage, type ModelPackage } from "../core/runtime/model/package.ts";
import { Scheduler } from "../core/runtime/scheduler/scheduler.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { makeModel, maxAbsDiff, reference, writeAdapter, type RefCase, type RefOut } from "./adapter-fixtures.ts";

const TOL = 1e-4;
const STEPS = 12;
let work: string;
let pkg: ModelPackage;
let packs: Record<string, AdapterPack>;
let cases: (RefCase & { name: string })[];
let ref: RefOut[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "kith-adapters-"));
  const dir = `${work}/model`;
  await makeModel(dir, ["--vocab", "300", "--hidden", "64", "--layers", "3", "--heads", "4", "--kv-heads", "2", "--intermediate", "128", "--untied", "--bias", "--seed", "5"]);
  pkg = await loadModelPackage(dir, nodePackageFiles);
  const base: BaseModelRef = { config: pkg.config, hash: baseModelHash(pkg), name: "random-3l" };
  const meta = (kind: string) => ["--kind", kind, "--base-hash", base.hash, "--base-name", "random-3l"];
  // Four adapters covering PEFT's config rules: list targets, regex + rsLoRA + rank_pattern,
  // all-linear + layers_to_transform + alpha_pattern (no adapter.json: a plain PEFT adapter),
  // default targets (null → q, v) stored as F16.
  await Promise.all([
    writeAdapter(dir, `${work}/a1`, ["--seed", "11", "--r", "4", "--alpha", "8", ...meta("character")]),
    writeAdapter(dir, `${work}/a2`, ["--seed", "12", "--r", "8", "--alpha", "4", "--targets-regex", ".*\\.(q|v|down)_proj", "--rslora", "--rank-pattern", '{"down_proj": 2}', ...meta("mood")]),
    writeAdapter(dir, `${work}/a3`, ["--seed", "13", "--r", "2", "--alpha", "3", "--targets", "all-linear", "--layers", "0,2", "--alpha-pattern", '{"o_proj": 12}']),
    writeAdapter(dir, `${work}/a4`, ["--seed", "14", "--r", "6", "--alpha", "6", "--targets", "default", "--dtype", "F16", ...meta("skill")]),
  ]);
  packs = {};
  for (const id of ["a1", "a2", "a3", "a4"]) packs[id] = await loadAdapterPack(`${work}/${id}`, nodePackageFiles, base);
  const P = (n: number, s: number) => Array.from({ length: n }, (_, i) => 4 + ((i * 37 + s * 11) % 290));
  cases = [
    { name: "single", prompt: P(7, 1), steps: STEPS, adapters: [{ dir: `${work}/a1`, weight: 1 }] },
    { name: "mixture", prompt: P(5, 2), steps: STEPS, adapters: [{ dir: `${work}/a1`, weight: 0.7 }, { dir: `${work}/a2`, weight: 0.5 }, { dir: `${work}/a4`, weight: 1.3 }] },
    { name: "none", prompt: P(9, 3), steps: STEPS, adapters: [] },
    { name: "regex-rslora", prompt: P(3, 4), steps: STEPS, adapters: [{ dir: `${work}/a2`, weight: 1 }] },
    { name: "all-linear-layers", prompt: P(6, 5), steps: STEPS, adapters: [{ dir: `${work}/a3`, weight: 1 }] },
    { name: "default-f16", prompt: P(4, 6), steps: STEPS, adapters: [{ dir: `${work}/a4`, weight: 1 }] },
  ];
  ref = await reference(dir, cases, work);
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const folded = (c: RefCase): FoldedLora | null => {
  if (c.adapters.length === 0) return null;
  return foldMixture(c.adapters.map((a) => ({ pack: packs[a.dir.split("/").pop()!], weight: a.weight })));
};

/** Runs cases through one scheduler; joinAfter[i] = tokens of case 0 to wait for before submitting case i. */
async function runScheduled(model: LanguageModel, idx: number[], joinAfter: number[] = idx.map(() => 0)) {
  const sched = new Scheduler(model, { maxBatch: 8 });
  const taps: Float32Array[][] = idx.map(() => []);
  const results: Promise<Awaited<ReturnType<typeof sched.submit>["result"]>>[] = [];
  let firstCount = 0;
  const waiters: { n: number; go: () => void }[] = [];
  const submit = (k: number) => {
    const c = cases[idx[k]];
    const s = sched.submit({
      prompt: c.prompt, options: { maxNewTokens: c.steps, eosTokenIds: [] }, lora: folded(c),
      onLogits: (l) => {
        taps[k].push(l);
        if (k === 0) {
          firstCount++;
          for (const w of waiters.filter((w) => w.n === firstCount)) w.go();
        }
      },
    });
    results[k] = s.result;
  };
  const pending: Promise<void>[] = [];
  idx.forEach((_, k) => {
    if (joinAfter[k] === 0) submit(k);
    else pending.push(new Promise<void>((go) => waiters.push({ n: joinAfter[k], go: () => { submit(k); go(); } })));
  });
  await Promise.all(pending);
  const out = await Promise.all(results);
  return { out, taps, stats: sched.stats.snapshot() };
}

function expectMatchesRef(caseIdx: number, tokens: number[], taps: Float32Array[]) {
  const r = ref[caseIdx];
  const V = 300;
  expect(tokens).toEqual(r.tokens);
  const pre = r.logits[0];
  expect(maxAbsDiff(taps[0], pre.slice(pre.length - V))).toBeLessThan(TOL);
  for (let k = 1; k < taps.length; k++) expect(maxAbsDiff(taps[k], r.logits[k]), `case ${caseIdx} step ${k}`).toBeLessThan(TOL);
}

describe.each([
  { runtime: "native binding, kith.LoraAdd kernel", native: true },
  { runtime: "onnxruntime-node, standard operators", native: false },
])("adapter parity with PyTorch (PEFT math): $runtime", ({ native }) => {
  let session: DecoderSession;
  let model: LanguageModel;
  beforeAll(async () => {
    const backend = nodeBackend({ threads: 1, native });
    expect(backend.loraOp).toBe(native ? "kith" : "standard");
    session = await DecoderSession.create(pkg, backend);
    model = LanguageModel.fromSession(session, pkg);
  }, 120_000);
  afterAll(async () => {
    await model?.release();
  });

  it("adapters really change the output (so the parity checks can fail)", async () => {
    const c = cases[0];
    const T = c.prompt.length;
    const plain = await session.forward({
      inputsEmbeds: session.embed(c.prompt), batch: 1, seqLen: T,
      positionIds: BigInt64Array.from({ length: T }, (_, t) => BigInt(t)), attentionMask: new BigInt64Array(T).fill(1n), past: null,
    });
    expect(maxAbsDiff(plain.logits, ref[0].logits[0])).toBeGreaterThan(0.05);
  });

  it("prefill logits at every position within 1e-4 for each case, run alone", async () => {
    for (const [i, c] of cases.entries()) {
      const T = c.prompt.length;
      const lora = build(session.config, session.loraTargets, [folded(c)]);
      const out = await session.forward({
        inputsEmbeds: session.embed(c.prompt), batch: 1, seqLen: T,
        positionIds: BigInt64Array.from({ length: T }, (_, t) => BigInt(t)), attentionMask: new BigInt64Array(T).fill(1n), past: null, lora,
      });
      const d = maxAbsDiff(out.logits, ref[i].logits[0]);
      expect(d, `${c.name}: max |Δlogit| ${d}`).toBeLessThan(TOL);
    }
  });

  it("single adapter, gated mixture, no adapter: greedy tokens and every step's logits match, each run alone", async () => {
    for (const i of [0, 1, 2, 3, 4, 5]) {
      const { out, taps } = await runScheduled(model, [i]);
      expectMatchesRef(i, out[0].tokens, taps[0]);
      expect(out[0].weights).toEqual(Object.fromEntries(cases[i].adapters.map((a) => [a.dir.split("/").pop(), a.weight])));
    }
  });

  it("mixed batch, every row a different adapter (or none): each row equals the reference and its run alone", async () => {
    const idx = [0, 1, 2, 3, 4, 5];
    const alone: Awaited<ReturnType<typeof runScheduled>>[] = [];
    for (const i of idx) alone.push(await runScheduled(model, [i]));
    const { out, taps, stats } = await runScheduled(model, idx);
    expect(stats.prefills).toBe(1); // all six prefilled together...
    expect(stats.batchSizeHistogram[6]).toBe(STEPS - 1); // ...and decoded together
    idx.forEach((i, k) => {
      expect(out[k].tokens).toEqual(alone[k].out[0].tokens);
      for (let s = 0; s < taps[k].length; s++) expect(maxAbsDiff(taps[k][s], alone[k].taps[0][s])).toBeLessThan(TOL);
      expectMatchesRef(i, out[k].tokens, taps[k]);
    });
  });

  it("rows joining a running batch mid-generation with other adapters still match the reference", async () => {
    const idx = [2, 0, 1, 4];
    const { out, taps, stats } = await runScheduled(model, idx, [0, 3, 3, 6]);
    expect(stats.prefills).toBeGreaterThanOrEqual(3);
    idx.forEach((i, k) => expectMatchesRef(i, out[k].tokens, taps[k]));
  });
});
