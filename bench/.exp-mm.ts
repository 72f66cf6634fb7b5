import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../core/runtime/onnx/graph.ts";
const nospin = { extra: { session: { intra_op: { allow_spinning: "0" } } } };
for (const [K, N] of [[576, 3072], [1536, 576], [576, 49152], [1024, 1024]]) {
  const g = new GraphBuilder("mm");
  const a = g.input("a", "float32", ["m", K]);
  g.op("MatMul", [a, g.init("w", "float32", [K, N], Float32Array.from({ length: K * N }, () => Math.random() - 0.5))], {}, "y");
  g.output("y", "float32", ["m", N]);
  const s = await ort.InferenceSession.create(g.serialize("x"), { executionProviders: ["cpu"], intraOpNumThreads: 2, interOpNumThreads: 1, ...nospin });
  const line: string[] = [];
  for (const M of [1, 4, 16, 64, 256]) {
    const feed = { a: new ort.Tensor("float32", new Float32Array(M * K).fill(0.5), [M, K]) };
    let best = Infinity;
    for (let i = 0; i < 30; i++) { const t = performance.now(); await s.run(feed); if (i) best = Math.min(best, performance.now() - t); }
    line.push(`M=${M}: ${(2 * M * K * N / best / 1e6).toFixed(1)} GFLOP/s (${best.toFixed(2)} ms)`);
  }
  console.log(`K=${K} N=${N}: ${line.join(", ")}`);
}
