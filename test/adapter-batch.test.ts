// Batched LoRA inputs: targets that share an input are packed into one group factor (A side by
// side, B block-diagonal), zero padding to the largest rank, rows without adapter, mixture folding,
// and buffer reuse between builds giving the same inputs as fresh buffers.
import { describe, expect, it } from "vitest";
import { BatchLoraInputs, build } from "../core/runtime/lora/batch-inputs.ts";
import { foldMixture, type FoldedLora } from "../core/runtime/lora/mixture.ts";
import type { AdapterPack } from "../core/runtime/lora/pack.ts";
import type { ModelConfig } from "../core/runtime/model/config.ts";
import { loraGroupDims, type LoraGroup } from "../core/runtime/onnx/decoder-graph.ts";
import type { LoraFactor } from "../core/runtime/session.ts";

const c = { hiddenSize: 4, intermediateSize: 6, numLayers: 1, numHeads: 2, numKvHeads: 1, headDim: 2 } as ModelConfig;
let seed = 1;
const rnd = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 48271) % 2147483647) / 2147483647) - 0.5);
const pack = (id: string, r: number, extra: Record<string, unknown> = {}): AdapterPack =>
  ({ id, meta: { version: "1" }, layers: [{ q: { rank: r, A: rnd(4 * r), B: rnd(r * 4) }, down: { rank: r, A: rnd(6 * r), B: rnd(r * 4) }, ...extra }] }) as unknown as AdapterPack;
// qkv's fused output is q (4 wide) | k (2) | v (2): stacked in chunks of 2 (q is two chunks, GQA);
// gate_up is gate (6) | up (6), two chunks; down is a single target.
const QKV = 8;
const one = (p: AdapterPack): FoldedLora => foldMixture([{ pack: p, weight: 1 }]);

/** (x·A)·B for row b of a single factor [in, R]·[R, out] (batch 1) or a block-diagonal group factor. */
function apply(A: Float32Array, B: Float32Array, b: number, dIn: number, R: number, dOut: number, x: Float32Array): Float32Array {
  const h = new Float32Array(R), y = new Float32Array(dOut);
  for (let r = 0; r < R; r++) for (let n = 0; n < dIn; n++) h[r] += x[n] * A[(b * dIn + n) * R + r];
  for (let o = 0; o < dOut; o++) for (let r = 0; r < R; r++) y[o] += h[r] * B[(b * R + r) * dOut + o];
  return y;
}

/** A group's update for row b, read the way the graph reads it (stacked or block-diagonal). */
function applyGroup(g: LoraGroup, f: LoraFactor, b: number, x: Float32Array): Float32Array {
  const d = loraGroupDims(c, g);
  if (!d.stack) return apply(f.A, f.B, b, d.in, f.rank, d.out, x);
  const R = f.rank, m = Object.keys(d.columns).length, each = R / m, w = d.stack.chunk, n = d.stack.chunkTarget.length;
  const h = new Float32Array(R), y = new Float32Array(d.out);
  for (let r = 0; r < R; r++) for (let k = 0; k < d.in; k++) h[r] += x[k] * f.A[(b * d.in + k) * R + r];
  for (let ch = 0; ch < n; ch++) {
    const t = d.stack.chunkTarget[ch];
    for (let o = 0; o < w; o++) for (let j = 0; j < each; j++) y[ch * w + o] += h[t * each + j] * f.B[((b * n + ch) * each + j) * w + o];
  }
  return y;
}

describe("batched LoRA inputs", () => {
  const p4 = pack("p4", 4), q4 = pack("q4", 4), p2 = pack("p2", 2);
  it("pads smaller ranks with zeros so each row's update is unchanged", () => {
    const x = rnd(4);
    const li = build(c, ["q"], [one(p2), null, one(p4)])!;
    const f = li[0]!.qkv!;
    expect(f.rank).toBe(3 * 4); // q, k and v share one rank slot width in a stacked group
    const alone2 = build(c, ["q"], [one(p2)])![0]!.qkv!;
    const y = applyGroup("qkv", f, 0, x), y2 = applyGroup("qkv", alone2, 0, x);
    const q = p2.layers[0].q!, direct = apply(q.A, q.B, 0, 4, 2, 4, x);
    y.forEach((v, i) => expect(v).toBeCloseTo(y2[i], 6));
    y.subarray(0, 4).forEach((v, i) => expect(v).toBeCloseTo(direct[i], 6));
    expect([...y.subarray(4)]).toEqual([0, 0, 0, 0]); // k and v untouched
    expect([...applyGroup("qkv", f, 1, x)]).toEqual(new Array(QKV).fill(0));
    expect(build(c, ["q"], [null, null])).toBeUndefined();
  });

  it("packs q, k and v of different ranks into one group: each target's update lands in its own columns", () => {
    const x = rnd(4);
    const withKv = pack("kv", 3, { k: { rank: 1, A: rnd(4), B: rnd(2) }, v: { rank: 5, A: rnd(20), B: rnd(10) } });
    const onlyV = pack("v", 2, { v: { rank: 2, A: rnd(8), B: rnd(4) } });
    const rows = [one(withKv), one(onlyV), null];
    const built = build(c, ["q", "k", "v", "down"], rows)![0]!;
    const f = built.qkv!;
    expect(f.rank).toBe(3 * 5); // the largest rank of any target, for each of the three
    /** x·A_t·B_t from the row's own factors, the reference. */
    const direct = (row: FoldedLora, t: "q" | "k" | "v", out: number) => {
      const u = row.layers[0][t];
      return u ? apply(u.A, u.B, 0, 4, u.rank, out, x) : new Float32Array(out);
    };
    rows.forEach((row, b) => {
      const y = applyGroup("qkv", f, b, x);
      const want = row ? [...direct(row, "q", 4), ...direct(row, "k", 2), ...direct(row, "v", 2)] : new Array(QKV).fill(0);
      y.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    });
    // down is a single-target group: block layout [R, out]
    const dn = built.down!, h6 = rnd(6), u = withKv.layers[0].down!;
    expect(dn.rank).toBe(3);
    applyGroup("down", dn, 0, h6).forEach((v, i) => expect(v).toBeCloseTo(apply(u.A, u.B, 0, 6, 3, 4, h6)[i], 6));
  });

  it("stacks gate and up (equal widths) with their own ranks padded to one", () => {
    const x = rnd(4);
    const gu = pack("gu", 2, { gate: { rank: 2, A: rnd(8), B: rnd(12) }, up: { rank: 3, A: rnd(12), B: rnd(18) } });
    const f = build(c, ["gate", "up"], [null, one(gu)])![0]!.gate_up!;
    expect(f.rank).toBe(6);
    const g = gu.layers[0].gate!, u = gu.layers[0].up!;
    const want = [...apply(g.A, g.B, 0, 4, 2, 6, x), ...apply(u.A, u.B, 0, 4, 3, 6, x)];
    applyGroup("gate_up", f, 1, x).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    expect([...applyGroup("gate_up", f, 0, x)]).toEqual(new Array(12).fill(0));
  });

  it("a mixture equals the weighted sum of its adapters' updates", () => {
    const x = rnd(4);
    const m = foldMixture([{ pack: p4, weight: 0.3 }, { pack: p2, weight: -1.2 }]);
    expect(m.layers[0].q!.rank).toBe(6);
    const f = build(c, ["q"], [m])![0]!.qkv!;
    const a = build(c, ["q"], [one(p4)])![0]!.qkv!, b = build(c, ["q"], [one(p2)])![0]!.qkv!;
    const y = applyGroup("qkv", f, 0, x), ya = applyGroup("qkv", a, 0, x), yb = applyGroup("qkv", b, 0, x);
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
