import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { CAPACITY_CHUNK } from "../core/runtime/kv-cache.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { DecoderSession, type ForwardResult } from "../core/runtime/session.ts";
import { argmax, makeRandomModel, maxAbsDiff } from "./runtime-parity-fixtures.ts";

// The in-place KV cache (core/runtime/kv-cache.ts): decode steps append into preallocated buffers,
// grow them by chunks, and never change what an older cache object describes.

const root = mkdtempSync(join(tmpdir(), "kith-kv-"));
let session: DecoderSession;

beforeAll(async () => {
  await makeRandomModel(join(root, "m"), ["--heads", "4", "--kv-heads", "2", "--seed", "11"], 1);
  session = await DecoderSession.create(await loadModelPackage(join(root, "m"), nodePackageFiles), nodeBackend({ threads: 1 }), { loraTargets: [] });
}, 180_000);
afterAll(async () => {
  await session?.release();
  rmSync(root, { recursive: true, force: true });
});

const ones = (n: number) => new BigInt64Array(n).fill(1n);
const positions = (from: number, n: number) => BigInt64Array.from({ length: n }, (_, i) => BigInt(from + i));
const step = (past: ForwardResult["present"], tok: number) =>
  session.forward({ inputsEmbeds: session.embed([tok]), batch: 1, seqLen: 1, positionIds: positions(past.length, 1), attentionMask: ones(past.length + 1), past });

describe("in-place KV cache", () => {
  it("decoding across several capacity chunks gives the logits of one prefill over the whole sequence", async () => {
    const V = session.config.vocabSize;
    const prompt = [5, 6, 7, 8, 9];
    let out = await session.forward({ inputsEmbeds: session.embed(prompt), batch: 1, seqLen: prompt.length, positionIds: positions(0, prompt.length), attentionMask: ones(prompt.length), past: null });
    const ids = [...prompt];
    const stepLogits: Float32Array[] = [];
    const capacities = new Set<number>();
    let inPlace = 0;
    const steps = 2 * CAPACITY_CHUNK + 10;
    for (let i = 0; i < steps; i++) {
      const tok = argmax(out.logits, out.logits.length - V);
      ids.push(tok);
      const past = out.present;
      out = await step(past, tok);
      if (out.present.key[0] === past.key[0]) inPlace++;
      capacities.add(out.present.capacity!);
      stepLogits.push(out.logits);
    }
    expect(out.present.length).toBe(prompt.length + steps);
    expect(capacities.size).toBeGreaterThanOrEqual(3); // grew at least twice
    expect(inPlace).toBeGreaterThanOrEqual(steps - 3); // every step but the growing ones wrote in place
    // One prefill over prompt + all fed tokens: position prompt.length-1+i+1 is step i's logits.
    const fed = ids.slice(0, prompt.length + steps);
    const whole = await session.forward({ inputsEmbeds: session.embed(fed), batch: 1, seqLen: fed.length, positionIds: positions(0, fed.length), attentionMask: ones(fed.length), past: null });
    let worst = 0;
    stepLogits.forEach((l, i) => (worst = Math.max(worst, maxAbsDiff(l, whole.logits.subarray((prompt.length + i) * V, (prompt.length + i + 1) * V)))));
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it("two forwards from the same cache (a branch) do not disturb each other", async () => {
    const prompt = [40, 41, 42];
    const pre = await session.forward({ inputsEmbeds: session.embed(prompt), batch: 1, seqLen: 3, positionIds: positions(0, 3), attentionMask: ones(3), past: null });
    const a1 = await step(pre.present, 10);
    const b1 = await step(pre.present, 20); // same past, other token: must not overwrite a's column
    const a2 = await step(a1.present, 11);
    const a2again = await step(a1.present, 11);
    expect(maxAbsDiff(a2.logits, a2again.logits)).toBe(0);
    expect(b1.present.key[0]).not.toBe(a1.present.key[0]);
    // b's branch equals a fresh run of the same tokens.
    const fresh = await session.forward({ inputsEmbeds: session.embed([...prompt, 20]), batch: 1, seqLen: 4, positionIds: positions(0, 4), attentionMask: ones(4), past: null, logits: "last" });
    expect(maxAbsDiff(b1.logits, fresh.logits)).toBeLessThanOrEqual(1e-4);
    expect(pre.present.length).toBe(3); // older cache objects keep describing what they did
  });

  it("a caller-made dense cache is copied, never written", async () => {
    const pre = await session.forward({ inputsEmbeds: session.embed([7, 8]), batch: 1, seqLen: 2, positionIds: positions(0, 2), attentionMask: ones(2), past: null });
    const c = session.config;
    const n = c.numKvHeads * 2 * c.headDim;
    const dense = { batch: 1, length: 2, key: pre.present.key.map((k) => k.slice(0, n)), value: pre.present.value.map((v) => v.slice(0, n)) };
    // Capacity-strided → dense: with one row, head h's columns start at h·capacity·hd.
    const C = pre.present.capacity!;
    for (let l = 0; l < c.numLayers; l++) {
      for (let h = 0; h < c.numKvHeads; h++) {
        dense.key[l].set(pre.present.key[l].subarray(h * C * c.headDim, (h * C + 2) * c.headDim), h * 2 * c.headDim);
        dense.value[l].set(pre.present.value[l].subarray(h * C * c.headDim, (h * C + 2) * c.headDim), h * 2 * c.headDim);
      }
    }
    const before = dense.key.map((k) => k.slice());
    const fromDense = await step(dense, 9);
    const fromOwn = await step(pre.present, 9);
    expect(maxAbsDiff(fromDense.logits, fromOwn.logits)).toBeLessThanOrEqual(1e-5);
    dense.key.forEach((k, l) => expect(maxAbsDiff(k, before[l])).toBe(0));
  });
});
