// Batched LoRA inputs: targets that share an input are packed into one group factor (A side by
// side, B block-diagonal), zero padding to the largest rank, rows without adapter, mixture folding,
// and buffer reuse between builds giving the same inputs as fresh buffers.
import { describe, expect, it } from "vitest";
import { BatchLoraInputs, build } from "../core/runtime/lora/batch-inputs.ts";
import { foldMixture, type FoldedLora } from "../core/runtime/lora/mixture.ts";
import type { AdapterPack } from "../core/runtime/lora/pack.ts";
import type { ModelConfig } from "../core/runtime/model/config.ts";

const c = { hiddenSize: 4, intermediateSize: 6, numLayers: 1, numHeads: 2, numKvHeads: 1, headDim: 2 } as ModelConfig;
let seed = 1;
const rnd = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 48271) % 2147483647) / 2147483647) - 0.5);
const pack = (id: string, r: number, extra: Record<string, unknown> = {}): AdapterPack =>
  ({ id, meta: { version: "1" }, layers: [{ q: { rank: r, A: rnd(4 * r), B: rnd(r * 4) }, down: { rank: r, A: rnd(6 * r), B: rnd(r * 4) }, ...extra }] }) as unknown as AdapterPack;
// qkv's fused output is q (4 wide) | k (2) | v (2).
const QKV = 8;
const one = (p: AdapterPack): FoldedLora => foldMixture([{ pack: p, weight: 1 }]);

/** (x·A)·B for row b of a batched factor, x [in]. */
function apply(A: Float32Array, B: Float32Array, b: number, dIn: number, R: number, dOut: number, x: Float32Array): Float32Array {
  const h = new Float32Array(R), y = new Float32Array(dOut);
  for (let r = 0; r < R; r++) for (let n = 0; n < dIn; n++) h[r] += x[n] * A[(b * dIn + n) * R + r];
  for (let o = 0; o < dOut; o++) for (let r = 0; r < R; r++) y[o] += h[r] * B[(b * R + r) * dOut + o];
  return y;
}

describe("batched LoRA inputs", () => {
  const p4 = pack("p4", 4), q4 = pack("q4", 4), p2 = pack("p2", 2);
  it("pads smaller ranks with zeros so each row's update is unchanged", () => {
    const x = rnd(4);
    const li = build(c, ["q"], [one(p2), null, one(p4)])!;
    const f = li[0]!.qkv!;
    expect(f.rank).toBe(4);
    const alone2 = build(c, ["q"], [one(p2)])![0]!.qkv!;
    const y = apply(f.A, f.B, 0, 4, 4, QKV, x), y2 = apply(alone2.A, alone2.B, 0, 4, 2, QKV, x);
    y.forEach((v, i) => expect(v).toBeCloseTo(y2[i], 6));
    expect([...y.subarray(4)]).toEqual([0, 0, 0, 0]); // k and v untouched
    expect([...apply(f.A, f.B, 1, 4, 4, QKV, x)]).toEqual(new Array(QKV).fill(0));
    expect(build(c, ["q"], [null, null])).toBeUndefined();
  });

  it("packs q, k and v of different ranks into one group: each target's update lands in its own columns", () => {
    const x = rnd(4);
    const withKv = pack("kv", 3, { k: { rank: 1, A: rnd(4), B: rnd(2) }, v: { rank: 5, A: rnd(20), B: rnd(10) } });
    const onlyV = pack("v", 2, { v: { rank: 2, A: rnd(8), B: rnd(4) } });
    const rows = [one(withKv), one(onlyV), null];
    const f = build(c, ["q", "k", "v", "down"], rows)![0]!.qkv!;
    expect(f.rank).toBe(3 + 1 + 5); // largest rank of each target, side by side
    /** x·A_t·B_t from the row's own factors, the reference. */
    const direct = (row: FoldedLora, t: "q" | "k" | "v", out: number) => {
      const u = row.layers[0][t];
      return u ? apply(u.A, u.B, 0, 4, u.rank, out, x) : new Float32Array(out);
    };
    rows.forEach((row, b) => {
      const y = apply(f.A, f.B, b, 4, f.rank, QKV, x);
      const want = row ? [...direct(row, "q", 4), ...direct(row, "k", 2), ...direct(row, "v", 2)] : new Array(QKV).fill(0);
      y.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    });
  });

  it("a mixture equals the weighted sum of its adapters' updates", () => {
    const x = rnd(4);
    const m = foldMixture([{ pack: p4, weight: 0.3 }, { pack: p2, weight: -1.2 }]);
    expect(m.layers[0].q!.rank).toBe(6);
    const f = build(c, ["q"], [m])![0]!.qkv!;
    const a = build(c, ["q"], [one(p4)])![0]!.qkv!, b = build(c, ["q"], [one(p2)])![0]!.qkv!;
    const y = apply(f.A, f.B, 0, 4, 6, QKV, x), ya = apply(a.A, a.B, 0, 4, 4, QKV, x), yb = apply(b.A, b.B, 0, 4, 2, QKV, x);
    y.forEach((v, i) => expect(v).toBeCloseTo(0.3 * ya[i] - 1.2 * yb[i], 5));
    expect(m.weights).toEqual({ p4: 0.3, p2: -1.2 });
  });

  it("reuses buffers between builds and still zeroes what a row does not use; caches while rows are unchanged", () => {
    const bi = new BatchLoraInputs(c, ["q", "down"]);
    const rowsA = [one(p4), one(q4)];
    const first = bi.inputs(rowsA)!;
    const firstA = first[0]!.qkv!.A;
    expect(bi.inputs(rowsA)).toBe(first); // same rows → same inputs, no rebuild
    for (const rows of [[one(p4), one(p2)], [null, one(q4)], [one(p2), null]]) {
      const got = bi.inputs(rows)!, fresh = build(c, ["q", "down"], rows)!;
      for (const t of ["qkv", "down"] as const) {
        expect([...got[0]![t]!.A]).toEqual([...fresh[0]![t]!.A]);
        expect([...got[0]![t]!.B]).toEqual([...fresh[0]![t]!.B]);
      }
    }
    expect(bi.inputs([one(p4), one(q4)])![0]!.qkv!.A).toBe(firstA); // same sizes → same buffer
    expect(bi.stats.reuses).toBe(1);
  });
});
