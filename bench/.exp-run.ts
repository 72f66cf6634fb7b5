import * as ort from "onnxruntime-node";
import { readFileSync, readdirSync } from "node:fs";
const [file, H, L, kvh, hd] = process.argv.slice(2).map((x, i) => (i ? Number(x) : x)) as [string, number, number, number, number];
const s = await ort.InferenceSession.create(readFileSync(file), { executionProviders: ["cpu"], intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: "all", ...(process.env.NOSPIN ? { extra: { session: { intra_op: { allow_spinning: "0" } } } } : {}) });
for (const B of (process.env.BS ?? "1,16").split(",").map(Number)) {
  for (const P of (process.env.PS ?? "40,300").split(",").map(Number)) {
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor("float32", new Float32Array(B * H).fill(0.1), [B, 1, H]),
      position_ids: new ort.Tensor("int64", new BigInt64Array(B).fill(BigInt(P)), [B, 1]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(B * (P + 1)).fill(1n), [B, P + 1]),
      logits_index: new ort.Tensor("int64", BigInt64Array.of(0n), [1]),
    };
    for (let i = 0; i < L; i++) for (const w of ["key", "value"]) feeds[`past_key_values.${i}.${w}`] = new ort.Tensor("float32", new Float32Array(B * kvh * P * hd), [B, kvh, P, hd]);
    const time = async (fetch?: string[]) => {
      const ts: number[] = [];
      for (let i = 0; i < 12; i++) { const t = performance.now(); fetch ? await s.run(feeds, fetch) : await s.run(feeds); ts.push(performance.now() - t); }
      ts.sort((a, b) => a - b); return ts[3].toFixed(2);
    };
    console.log(`B=${B} P=${P}: run all outputs ${await time()} ms, logits only ${await time(["logits"])} ms`);
  }
}
