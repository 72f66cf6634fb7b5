// Adapter factors reach the model's worker thread without a copy: the project's own packs (the
// default model's wen, mood-calm, skill-sight) folded into a mixture as the server folds a reply's,
// posted to a real worker thread, which then sees a value written after the post.
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseModelHash } from "../core/runtime/lora/base-hash.ts";
import { foldMixture, type FoldedLora } from "../core/runtime/lora/mixture.ts";
import { loadAdapterPack, type AdapterPack } from "../core/runtime/lora/pack.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";

// The worker answers each message with what it sees of the first factor it was given.
const WORKER = `
const { parentPort } = require("node:worker_threads");
let lora;
parentPort.on("message", (m) => {
  if (m.lora) lora = m.lora;
  const A = lora.layers[0].q.A;
  parentPort.postMessage({ shared: A.buffer instanceof SharedArrayBuffer, first: A[0], length: A.length });
});`;

let packs: AdapterPack[];
let worker: Worker;
const ask = (msg: object) => new Promise<{ shared: boolean; first: number; length: number }>((resolve) => {
  worker.once("message", resolve);
  worker.postMessage(msg);
});

beforeAll(async () => {
  const pkg = await loadModelPackage("assets/model", nodePackageFiles);
  const base = { config: pkg.config, hash: baseModelHash(pkg), name: "kith" };
  packs = await Promise.all(["wen", "mood-calm", "skill-sight"].map((id) => loadAdapterPack(`adapters/${id}`, nodePackageFiles, base)));
  worker = new Worker(WORKER, { eval: true });
});
afterAll(async () => {
  await worker?.terminate();
});

describe("adapter factors shared with the worker thread", () => {
  it("a pack's factors and a folded mixture's live in shared memory", () => {
    expect(packs[0].layers[0].q!.A.buffer).toBeInstanceOf(SharedArrayBuffer);
    const mix = foldMixture([{ pack: packs[0], weight: 1 }, { pack: packs[1], weight: 0.8 }, { pack: packs[2], weight: 1 }]);
    expect(mix.layers[0].q!.A.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(mix.layers[0].q!.rank).toBe(packs.reduce((r, p) => r + p.layers[0].q!.rank, 0));
  });

  it("posted to a worker, the mixture is the same memory, not a copy", async () => {
    const mix: FoldedLora = foldMixture([{ pack: packs[0], weight: 1 }, { pack: packs[1], weight: 0.8 }, { pack: packs[2], weight: 1 }]);
    const A = mix.layers[0].q!.A;
    const seen = await ask({ lora: mix });
    expect(seen).toEqual({ shared: true, first: A[0], length: A.length });
    const before = A[0];
    A[0] = 12345.5; // only in this test: factors are never written after they are made
    expect((await ask({})).first).toBe(12345.5);
    A[0] = before;
  });
});
