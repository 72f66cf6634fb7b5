// The continuous-batching scheduler on a real ONNX session (tiny random model): admission order,
// busy refusals, deadlines, cancellation, stats, and the host's event loop running between steps.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { LanguageModel } from "../core/runtime/index.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { BusyError, Scheduler } from "../core/runtime/scheduler/scheduler.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { makeModel } from "./adapter-fixtures.ts";

let work: string;
let model: LanguageModel;
const opts = (n: number) => ({ maxNewTokens: n, eosTokenIds: [] as number[] });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "kith-sched-"));
  await makeModel(`${work}/model`, ["--vocab", "300", "--hidden", "32", "--layers", "2", "--heads", "2", "--kv-heads", "1", "--intermediate", "64", "--seed", "6"]);
  const pkg = await loadModelPackage(`${work}/model`, nodePackageFiles);
  model = LanguageModel.fromSession(await DecoderSession.create(pkg, nodeBackend({ threads: 1 })), pkg);
}, 240_000);

afterAll(async () => {
  await model?.release();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("scheduler", () => {
  it("streams tokens and returns the same tokens as the result; results equal a plain generate()", async () => {
    const s = new Scheduler(model);
    const sub = s.submit({ prompt: [5, 6, 7], options: opts(12) });
    const streamed: number[] = [];
    for await (const c of sub.chunks) streamed.push(c.token);
    const r = await sub.result;
    expect(r.tokens).toEqual(streamed);
    expect(r.finish).toBe("length");
    expect(r.weights).toEqual({});
    expect(r.tokens).toEqual((await model.generate([5, 6, 7], opts(12))).tokenIds);
  });

  it("admits first come, first served and never runs more than maxBatch rows", async () => {
    const s = new Scheduler(model, { maxBatch: 2 });
    const order: number[] = [];
    const subs = Array.from({ length: 5 }, (_, k) => s.submit({ prompt: [10 + k, 11], options: opts(6), onLogits: () => void (order.includes(k) || order.push(k)) }));
    const rs = await Promise.all(subs.map((x) => x.result));
    expect(order).toEqual([0, 1, 2, 3, 4]);
    const waits = rs.map((r) => r.timings.queueMs);
    expect(waits[4]).toBeGreaterThanOrEqual(waits[2]);
    const st = s.stats.snapshot();
    expect(Math.max(...Object.keys(st.batchSizeHistogram).map(Number))).toBe(2);
    expect(Object.values(st.batchSizeHistogram).reduce((a, b) => a + b, 0)).toBe(st.steps);
    expect(st.tokens).toBe(5 * 6);
    expect(st.submitted).toBe(5);
  });

  it("refuses with BusyError beyond maxQueue, and when the estimated wait is too long", async () => {
    const s = new Scheduler(model, { maxBatch: 1, maxQueue: 2 });
    const a = s.submit({ prompt: [1, 2], options: opts(8) });
    const b = s.submit({ prompt: [1, 2], options: opts(8) });
    let err: unknown;
    try {
      s.submit({ prompt: [1, 2], options: opts(8) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BusyError);
    expect((err as BusyError).reason).toBe("queue-full");
    expect((err as Error).message).toMatch(/busy: 2 requests already waiting \(maxQueue 2\)/);
    await Promise.all([a.result, b.result]);
    expect(s.stats.rejected).toBe(1);

    const w = new Scheduler(model, { maxBatch: 1, maxWaitMs: 0.001 });
    await w.submit({ prompt: [1, 2], options: opts(8) }).result; // teaches it how long a request takes
    const c = w.submit({ prompt: [1, 2], options: opts(8) }); // room: admitted
    expect(() => w.submit({ prompt: [1, 2], options: opts(8) })).toThrow(/busy: estimated wait \d+ ms exceeds maxWaitMs/);
    await c.result;
  });

  it("deadline ends a long reply with finish 'deadline'; abort ends active and queued requests", async () => {
    const s = new Scheduler(model, { maxBatch: 1 });
    const long = s.submit({ prompt: [3, 4], options: opts(400), deadlineMs: 40 });
    const ctl = new AbortController();
    const queued = s.submit({ prompt: [3, 4], options: opts(400), signal: ctl.signal });
    ctl.abort();
    const r = await long.result;
    expect(r.finish).toBe("deadline");
    expect(r.tokens.length).toBeLessThan(400);
    const q = await queued.result;
    expect(q.finish).toBe("abort");
    expect(q.tokens).toEqual([]);

    const ctl2 = new AbortController();
    let n = 0;
    const active = s.submit({ prompt: [3, 4], options: opts(400), signal: ctl2.signal, onLogits: () => void (++n === 5 && ctl2.abort()) });
    const a = await active.result;
    expect(a.finish).toBe("abort");
    expect(a.tokens.length).toBeGreaterThanOrEqual(5);
    expect(a.tokens.length).toBeLessThanOrEqual(6);
    expect(() => s.submit({ prompt: [3], deadlineMs: -1 })).toThrow(/deadlineMs must be a positive number/);
  });

  it("bad input throws at submit, before anything is queued", () => {
    const s = new Scheduler(model);
    expect(() => s.submit({ prompt: [], options: opts(4) })).toThrow(/the prompt is empty/);
    expect(() => s.submit({ prompt: [5, 99999], options: opts(4) })).toThrow(/outside the vocabulary/);
    expect(s.load).toEqual({ queued: 0, active: 0 });
  });

  it("the host's event loop runs between steps (a room tick is never held up by a whole reply)", async () => {
    const s = new Scheduler(model);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let steps = 0;
    const sub = s.submit({ prompt: [7, 8, 9], options: opts(120), onLogits: () => void steps++ });
    let ticksAtHalf = -1;
    for await (const _ of sub.chunks) if (steps === 60) ticksAtHalf = ticks;
    await sub.result;
    clearInterval(timer);
    expect(ticksAtHalf).toBeGreaterThan(0); // timers fired while the reply was half done
    expect(ticks).toBeGreaterThan(ticksAtHalf);
  });
});
