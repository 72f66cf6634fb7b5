// The native onnxruntime binding (native/kith-ort) and its kith.LoraAdd kernel: the kernel against
// the update computed here in plain arithmetic (stacked and single-target groups, several tokens per
// row, rank 0, rows split across threads), the decoder on the binding against the same decoder on
// onnxruntime-node's standard-operator graph (a batch of distinct adapters, prefill and decode, two
// threads), and bad input: a clear error, and the session keeps running.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ortNode from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { mulberry32 } from "../core/runtime/generate/rng.ts";
import { build } from "../core/runtime/lora/batch-inputs.ts";
import { foldMixture } from "../core/runtime/lora/mixture.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { GraphBuilder } from "../core/runtime/onnx/graph.ts";
import { loadNativeOrt, nativeOrt } from "../core/runtime/ort-native.ts";
import { DecoderSession, type ForwardRequest } from "../core/runtime/session.ts";
import { randomPack } from "../bench/shared.ts";
import { makeModel, maxAbsDiff } from "./adapter-fixtures.ts";

const rng = mulberry32(42);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.next() - 0.5);

/** A graph of one kith.LoraAdd: y, x, A, B in, out = y + (x·A)·B per row. */
function loraAddGraph(target: number[], stacked: boolean): Uint8Array {
  const g = new GraphBuilder("lora_add");
  const ins = ["y", "x", "A", "B"].map((n) => g.input(n, "float32", n === "B" && stacked ? ["b", "n", "r", "c"] : ["d0", "d1", "d2"]));
  const out = g.opIn("kith", "LoraAdd", [...ins, g.ints(target)]);
  g.output(out, "float32", ["d0", "d1", "d2"]);
  return g.serialize("test");
}

/** The update in plain arithmetic: same layout as lora_add.h. */
function reference(y: Float32Array, x: Float32Array, A: Float32Array, B: Float32Array, d: { rows: number; T: number; in: number; R: number; n: number; r: number; chunk: number }, target: number[]) {
  const w = d.n * d.chunk;
  const out = y.slice();
  for (let b = 0; b < d.rows; b++) {
    for (let t = 0; t < d.T; t++) {
      const xa = new Float64Array(d.R);
      for (let k = 0; k < d.R; k++) for (let j = 0; j < d.in; j++) xa[k] += x[(b * d.T + t) * d.in + j] * A[(b * d.in + j) * d.R + k];
      for (let c = 0; c < d.n; c++) {
        for (let q = 0; q < d.chunk; q++) {
          let s = 0;
          for (let k = 0; k < d.r; k++) s += xa[target[c] * d.r + k] * B[((b * d.n + c) * d.r + k) * d.chunk + q];
          out[(b * d.T + t) * w + c * d.chunk + q] += s;
        }
      }
    }
  }
  return out;
}

describe("native onnxruntime binding", () => {
  it("is built and loads the onnxruntime that onnxruntime-node ships", () => {
    const n = loadNativeOrt();
    expect("error" in n ? n.error : "").toBe("");
    expect("version" in n && n.version).toMatch(/^1\.\d+\.\d+/);
    const b = nodeBackend({ threads: 1 });
    expect(b.loraOp).toBe("kith");
    expect(nodeBackend({ threads: 1, native: false }).loraOp).toBe("standard");
  });

  describe("kith.LoraAdd against plain arithmetic", () => {
    const shapes = [
      // stacked like q|k|v under GQA (q is two chunks), several tokens, one thread's worth of work
      { name: "stacked qkv, 3 rows × 5 tokens", rows: 3, T: 5, in: 24, m: 3, r: 4, n: 4, chunk: 8, target: [0, 0, 1, 2] },
      // a single-target group: B [rows, R, out]
      { name: "single target, 4 rows × 1 token", rows: 4, T: 1, in: 40, m: 1, r: 6, n: 1, chunk: 36, target: [0] },
      // enough work (> 2^16 multiply-adds) that rows are split across the intra-op threads; odd
      // sizes so the 8-wide loops have tails
      { name: "gate|up, 9 rows × 23 tokens (parallel rows)", rows: 9, T: 23, in: 67, m: 2, r: 5, n: 2, chunk: 45, target: [0, 1] },
      { name: "rank 0 copies y", rows: 2, T: 3, in: 16, m: 1, r: 0, n: 1, chunk: 12, target: [0] },
    ];
    for (const s of shapes) {
      it(s.name, async () => {
        const R = s.m * s.r;
        const d = { rows: s.rows, T: s.T, in: s.in, R, n: s.n, r: s.r, chunk: s.chunk };
        const y = rand(s.rows * s.T * s.n * s.chunk), x = rand(s.rows * s.T * s.in), A = rand(s.rows * s.in * R), B = rand(s.rows * s.n * s.r * s.chunk);
        const session = await nativeOrt.InferenceSession.create(loraAddGraph(s.target, s.n > 1), { intraOpNumThreads: 2 });
        const Tn = nativeOrt.Tensor;
        const bDims = s.n === 1 ? [s.rows, s.r, s.chunk] : [s.rows, s.n, s.r, s.chunk];
        const out = await session.run({
          y: new Tn("float32", y, [s.rows, s.T, s.n * s.chunk]), x: new Tn("float32", x, [s.rows, s.T, s.in]),
          A: new Tn("float32", A, [s.rows, s.in, R]), B: new Tn("float32", B, bDims),
        });
        const got = Object.values(out)[0].data as Float32Array;
        const want = reference(y, x, A, B, d, s.target);
        expect(got.length).toBe(want.length);
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
        if (R > 0) expect(maxAbsDiff(got, y)).toBeGreaterThan(0.01); // the update is not a no-op
        await session.release();
      });
    }

    it("shapes that disagree: the run fails with the kernel's message, the session runs again after", async () => {
      const session = await nativeOrt.InferenceSession.create(loraAddGraph([0], false), { intraOpNumThreads: 1 });
      const Tn = nativeOrt.Tensor;
      const feeds = (aIn: number) => ({
        y: new Tn("float32", rand(2 * 1 * 6), [2, 1, 6]), x: new Tn("float32", rand(2 * 1 * 5), [2, 1, 5]),
        A: new Tn("float32", rand(2 * aIn * 3), [2, aIn, 3]), B: new Tn("float32", rand(2 * 3 * 6), [2, 3, 6]),
      });
      await expect(session.run(feeds(4))).rejects.toThrow(/kith\.LoraAdd: .*disagree/);
      const ok = await session.run(feeds(5));
      expect(Object.values(ok)[0].dims).toEqual([2, 1, 6]);
      await session.release();
    });
  });

  describe("binding errors", () => {
    it("corrupt model bytes are refused with onnxruntime's message", async () => {
      await expect(nativeOrt.InferenceSession.create(new Uint8Array([1, 2, 3, 4, 5]), {})).rejects.toThrow(/kith_ort\.createSession: .+/);
    });
    it("an input with too few elements for its shape, a missing input, a released session", async () => {
      const session = await nativeOrt.InferenceSession.create(loraAddGraph([0], false), { intraOpNumThreads: 1 });
      const Tn = nativeOrt.Tensor;
      const good = {
        y: new Tn("float32", rand(6), [1, 1, 6]), x: new Tn("float32", rand(5), [1, 1, 5]),
        A: new Tn("float32", rand(15), [1, 5, 3]), B: new Tn("float32", rand(18), [1, 3, 6]),
      };
      // A Tensor checks its own size, so lie about the dims after construction.
      const short = new Tn("float32", rand(5), [1, 1, 5]);
      Object.defineProperty(short, "dims", { value: [1, 1, 6] });
      await expect(session.run({ ...good, x: short })).rejects.toThrow(/input x: 5 elements for a shape of 6/);
      const { y: _y, ...missing } = good;
      await expect(session.run(missing)).rejects.toThrow(/input y missing/);
      await expect(session.run({ ...good, z: good.y })).rejects.toThrow(/z is not an input of this model/);
      expect(Object.values(await session.run(good))[0].dims).toEqual([1, 1, 6]);
      await session.release();
      await expect(session.run(good)).rejects.toThrow(/released/);
    });
  });
});

describe("decoder on the native binding equals the decoder on onnxruntime-node", () => {
  let work: string;
  let native: DecoderSession, plain: DecoderSession;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "kith-native-"));
    await makeModel(`${work}/m`, ["--vocab", "512", "--hidden", "96", "--layers", "2", "--heads", "6", "--kv-heads", "2", "--intermediate", "160", "--seed", "3"]);
    const pkg = await loadModelPackage(`${work}/m`, nodePackageFiles);
    native = await DecoderSession.create(pkg, nodeBackend({ threads: 2, native: true }));
    plain = await DecoderSession.create(pkg, nodeBackend({ threads: 2, native: false }));
  }, 120_000);
  afterAll(async () => {
    await native?.release();
    await plain?.release();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("a batch of 8 rows with distinct adapters (two rows without): prefill of 20 tokens, then 6 decode steps", async () => {
    const c = native.config;
    const B = 8, T = 20;
    const loras = Array.from({ length: B }, (_, k) => (k % 4 === 3 ? null : foldMixture([{ pack: randomPack(c, `p${k}`, 7 + k, 2 + (k % 3) * 3), weight: 0.5 + k / 8 }])));
    const lora = build(c, native.loraTargets, loras)!;
    const ids = Array.from({ length: B * T }, (_, i) => 4 + ((i * 31) % 500));
    const req: ForwardRequest = {
      inputsEmbeds: native.embed(ids), batch: B, seqLen: T,
      positionIds: BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % T)), attentionMask: new BigInt64Array(B * T).fill(1n), past: null, lora,
    };
    let [a, b] = [await native.forward(req), await plain.forward(req)];
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-4);
    const bare = await plain.forward({ ...req, lora: undefined });
    expect(maxAbsDiff(bare.logits, b.logits)).toBeGreaterThan(0.01); // the adapters matter
    for (let step = 0; step < 6; step++) {
      const P = T + step;
      const next = Array.from({ length: B }, (_, i) => 4 + ((i * 13 + step * 7) % 500));
      const stepReq = (past: typeof a.present): ForwardRequest => ({
        inputsEmbeds: native.embed(next), batch: B, seqLen: 1, positionIds: new BigInt64Array(B).fill(BigInt(P)),
        attentionMask: new BigInt64Array(B * (P + 1)).fill(1n), past, lora, logits: "last",
      });
      [a, b] = [await native.forward(stepReq(a.present)), await plain.forward(stepReq(b.present))];
      expect(maxAbsDiff(a.logits, b.logits), `step ${step}`).toBeLessThan(1e-4);
    }
  });

  it("both run the same onnxruntime library", () => {
    const n = loadNativeOrt();
    expect("version" in n && n.version).toBe(ortNode.env.versions.common);
  });
});
