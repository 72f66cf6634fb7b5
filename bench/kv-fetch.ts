// How much a decode step pays for its outputs besides logits: runs one decoder graph (from the graph
// cache) with a past of P positions, fetching every output vs only logits. Before the in-place cache
// (BUILDER_VERSION 2) the outputs were the whole grown cache (809 vs 137 ms, smol135m b16, P=300);
// now they are only the step's new key/value columns, so the two should be close.
//
//   npx tsx bench/kv-fetch.ts <decoder-*.onnx> <hidden> <layers> <kv heads> <head dim> [--no-spin]
//   env BS=1,16 PS=60,300 choose batch sizes and past lengths.
// Prints one line per (batch, past): median of 12 runs each way, ms.

import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";

const argv = process.argv.slice(2);
const noSpin = argv.includes("--no-spin");
const [file, H, L, kvh, hd] = argv.filter((a) => a !== "--no-spin").map((x, i) => (i ? Number(x) : x)) as [string, number, number, number, number];
if (!file || !(H > 0 && L > 0 && kvh > 0 && hd > 0)) {
  console.error("usage: tsx bench/kv-fetch.ts <decoder.onnx> <hidden> <layers> <kv heads> <head dim> [--no-spin]");
  process.exit(1);
}
const session = await ort.InferenceSession.create(readFileSync(file), {
  executionProviders: ["cpu"],
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
  ...(noSpin ? { extra: { session: { intra_op: { allow_spinning: "0" } } } } : {}),
});
const list = (v: string | undefined, d: string) => (v ?? d).split(",").map(Number);
for (const B of list(process.env.BS, "1,16")) {
  for (const P of list(process.env.PS, "60,300")) {
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor("float32", new Float32Array(B * H).fill(0.1), [B, 1, H]),
      position_ids: new ort.Tensor("int64", new BigInt64Array(B).fill(BigInt(P)), [B, 1]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(B * (P + 1)).fill(1n), [B, P + 1]),
      logits_index: new ort.Tensor("int64", BigInt64Array.of(0n), [1]),
    };
    for (let i = 0; i < L; i++) {
      for (const w of ["key", "value"]) feeds[`past_key_values.${i}.${w}`] = new ort.Tensor("float32", new Float32Array(B * kvh * P * hd), [B, kvh, P, hd]);
    }
    const time = async (fetch?: string[]) => {
      const ts: number[] = [];
      for (let i = 0; i < 12; i++) {
        const t = performance.now();
        await (fetch ? session.run(feeds, fetch) : session.run(feeds));
        ts.push(performance.now() - t);
      }
      return ts.sort((a, b) => a - b)[6].toFixed(2);
    };
    console.log(`batch ${B}, past ${P}: all outputs ${await time()} ms, logits only ${await time(["logits"])} ms`);
  }
}
