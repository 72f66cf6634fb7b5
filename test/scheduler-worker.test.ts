// The scheduler in a worker thread: same tokens as in-process, adapters cross the thread boundary,
// the main thread's timers keep running, refusals come back as BusyError.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { loadModel, type LanguageModel } from "../core/runtime/index.ts";
import { foldMixture } from "../core/runtime/lora/mixture.ts";
import type { AdapterPack } from "../core/runtime/lora/pack.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { BusyError, Scheduler } from "../core/runtime/scheduler/scheduler.ts";
import { loraDims } from "../core/runtime/onnx/decoder-graph.ts";
import { InferenceWorker } from "../server/adapters/worker.ts";
import { makeModel } from "./adapter-fixtures.ts";

let work: string;
let worker: InferenceWorker;
let model: LanguageModel;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "kith-worker-"));
  await makeModel(`${work}/model`, ["--vocab", "300", "--hidden", "32", "--layers", "2", "--heads", "2", "--kv-heads", "1", "--intermediate", "64", "--seed", "7"]);
  model = await loadModel(`${work}/model`, { backend: nodeBackend({ threads: 1 }), files: nodePackageFiles });
  worker = await InferenceWorker.start({ modelDir: `${work}/model`, threads: 1, scheduler: { maxBatch: 4, maxQueue: 1 } });
}, 240_000);

afterAll(async () => {
  await worker?.close();
  await model?.release();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("scheduler in a worker thread", () => {
  it("same tokens as in-process, with an adapter, while main-thread timers run", async () => {
    const c = model.config;
    let s = 3;
    const rnd = (n: number) => Float32Array.from({ length: n }, () => ((s = (s * 48271) % 2147483647) / 2147483647 - 0.5) * 0.5);
    const d = loraDims(c, "v");
    const pack = { id: "x", meta: { version: "1" }, layers: [{ v: { rank: 2, A: rnd(d.in * 2), B: rnd(2 * d.out) } }, {}] } as unknown as AdapterPack;
    const lora = foldMixture([{ pack, weight: 1 }]);
    const opts = { maxNewTokens: 40, eosTokenIds: [] as number[] };
    const local = await new Scheduler(model).submit({ prompt: [5, 6, 7], options: opts, lora }).result;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const sub = worker.submit({ prompt: [5, 6, 7], options: opts, lora });
    const streamed: number[] = [];
    for await (const ch of sub.chunks) streamed.push(ch.token);
    const r = await sub.result;
    clearInterval(timer);
    expect(r.tokens).toEqual(local.tokens);
    expect(streamed).toEqual(local.tokens);
    expect(r.weights).toEqual({ x: 1 });
    expect(ticks).toBeGreaterThan(0);
  });

  it("busy and bad input come back as rejected results", async () => {
    const subs = Array.from({ length: 8 }, () => worker.submit({ prompt: [5, 6], options: { maxNewTokens: 30, eosTokenIds: [] } }));
    const settled = await Promise.allSettled(subs.map((x) => x.result));
    const busy = settled.filter((x) => x.status === "rejected").map((x) => (x as PromiseRejectedResult).reason);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0]).toBeInstanceOf(BusyError);
    await expect(worker.submit({ prompt: [] }).result).rejects.toThrow(/the prompt is empty/);
  });
});
