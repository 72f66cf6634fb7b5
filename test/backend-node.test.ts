import { describe, expect, it } from "vitest";
import { DEFAULT_SPIN_US, nodeBackend } from "../core/runtime/backend-node.ts";
import { GraphBuilder } from "../core/runtime/onnx/graph.ts";

const intraOp = (spinning?: boolean | number) => (nodeBackend({ threads: 2, spinning }).sessionOptions!.extra as { session: { intra_op: Record<string, string> } }).session.intra_op;

describe("nodeBackend: how idle intra-op threads wait", () => {
  it("spins DEFAULT_SPIN_US microseconds by default, a given number, forever, or not at all", () => {
    expect(intraOp()).toEqual({ allow_spinning: "1", spin_duration_us: String(DEFAULT_SPIN_US) });
    expect(intraOp(200)).toEqual({ allow_spinning: "1", spin_duration_us: "200" });
    expect(intraOp(true)).toEqual({ allow_spinning: "1" });
    expect(intraOp(false)).toEqual({ allow_spinning: "0" });
    expect(intraOp(0)).toEqual({ allow_spinning: "0" });
  });

  it("refuses a spin that is not a whole number of microseconds", () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) expect(() => nodeBackend({ spinning: bad })).toThrow(/spinning must be true, false or a whole number of microseconds/);
  });

  it("onnxruntime takes every setting and computes the same on two threads", async () => {
    // x @ W with W = 0.5·I (64×64), big enough that the MatMul is split across the threads.
    const g = new GraphBuilder("spin");
    const n = 64;
    const w = new Float32Array(n * n);
    for (let i = 0; i < n; i++) w[i * n + i] = 0.5;
    g.input("x", "float32", [n, n]);
    g.op("MatMul", ["x", g.init("w", "float32", [n, n], w)], {}, "y");
    g.output("y", "float32", [n, n]);
    const bytes = g.serialize("spin");
    const x = Float32Array.from({ length: n * n }, (_, i) => (i % 7) - 3);
    for (const spinning of [undefined, 0, 200, true, false] as const) {
      const b = nodeBackend({ threads: 2, spinning });
      const s = await b.ort.InferenceSession.create(bytes, { executionProviders: b.executionProviders, ...b.sessionOptions });
      const y = (await s.run({ x: new b.ort.Tensor("float32", x, [n, n]) })).y.data as Float32Array;
      expect(Array.from(y.subarray(0, 8))).toEqual(Array.from(x.subarray(0, 8), (v) => v / 2));
      await s.release();
    }
  });
});
