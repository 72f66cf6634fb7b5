import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { build } from "../core/runtime/lora/batch-inputs.ts";
import { ModelError } from "../core/runtime/model/errors.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage, type ModelPackage } from "../core/runtime/model/package.ts";
import { WeightStore, type TensorEntry } from "../core/runtime/model/safetensors.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { argmax, checkAgainstReference, compareQuantized, greedyOne, makeRandomModel, maxAbsDiff, type Reference } from "./runtime-parity-fixtures.ts";

// The ONNX decoder against the PyTorch reference (training/model.py) on random models: every
// prefill and each of 20 cached greedy decode steps within 1e-4, the same greedy tokens.

const root = mkdtempSync(join(tmpdir(), "kith-parity-"));
const backend = nodeBackend({ threads: 1 });

const CASES: Record<string, string[]> = {
  "llama GQA tied theta 1e4 f32": ["--heads", "4", "--kv-heads", "2", "--seed", "1"],
  "llama MHA untied theta 5e5 attention bias f32": ["--heads", "4", "--kv-heads", "4", "--untied", "--bias", "--rope-theta", "500000", "--seed", "2"],
  "qwen2 GQA untied (q/k/v bias) f32": ["--arch", "qwen2", "--heads", "8", "--kv-heads", "2", "--untied", "--seed", "3"],
  "mistral GQA tied bf16": ["--arch", "mistral", "--heads", "4", "--kv-heads", "1", "--dtype", "BF16", "--seed", "4"],
  "llama untied f16, head_dim 24 ≠ hidden/heads, 3 layers": ["--heads", "6", "--kv-heads", "3", "--head-dim", "24", "--layers", "3", "--untied", "--dtype", "F16", "--seed", "5"],
};
const refs = new Map<string, Reference>();

beforeAll(async () => {
  // Two at a time: each spawns PyTorch.
  const names = Object.keys(CASES);
  for (let i = 0; i < names.length; i += 2) {
    await Promise.all(names.slice(i, i + 2).map(async (n, k) => refs.set(n, await makeRandomModel(join(root, `m${i + k}`), CASES[n]))));
  }
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dirOf = (name: string) => join(root, `m${Object.keys(CASES).indexOf(name)}`);

describe("decoder parity with the PyTorch reference", () => {
  for (const name of Object.keys(CASES)) {
    it(name, async () => {
      const pkg = await loadModelPackage(dirOf(name), nodePackageFiles);
      const s = await DecoderSession.create(pkg, backend);
      const r = await checkAgainstReference(s, refs.get(name)!);
      await s.release();
      expect(r.steps).toBe(3 * 21);
      expect(r.maxDiff).toBeLessThanOrEqual(1e-4);
      expect(r.tokensEqual).toBe(true);
    });
  }
});

describe("batching", () => {
  it("a left-padded batch of different lengths equals each row run alone (prefill + 5 decode steps)", async () => {
    const pkg = await loadModelPackage(dirOf("qwen2 GQA untied (q/k/v bias) f32"), nodePackageFiles);
    const s = await DecoderSession.create(pkg, backend);
    const V = pkg.config.vocabSize;
    const rows = [[5, 6, 7, 8, 9, 10, 11], [40, 41], [100, 3, 200, 17, 18, 19, 20, 21, 22, 23]];
    const steps = 5;
    const solo = await Promise.all(rows.map((ids) => greedyOne(s, ids, steps)));

    const B = rows.length, T = Math.max(...rows.map((r) => r.length));
    const ids: number[] = [], pos = new BigInt64Array(B * T), mask = new BigInt64Array(B * T);
    rows.forEach((r, b) => {
      const pad = T - r.length;
      for (let t = 0; t < T; t++) {
        ids.push(t < pad ? 0 : r[t - pad]);
        pos[b * T + t] = BigInt(Math.max(0, t - pad));
        mask[b * T + t] = t < pad ? 0n : 1n;
      }
    });
    let out = await s.forward({ inputsEmbeds: s.embed(ids), batch: B, seqLen: T, positionIds: pos, attentionMask: mask, past: null });
    let worst = 0;
    rows.forEach((r, b) => {
      const pad = T - r.length;
      worst = Math.max(worst, maxAbsDiff(out.logits.subarray((b * T + pad) * V, (b + 1) * T * V), solo[b].logits[0]));
    });
    let fullMask = mask;
    for (let step = 0; step < steps; step++) {
      const toks = rows.map((_, b) => argmax(out.logits, ((b + 1) * out.logits.length) / B - V, ((b + 1) * out.logits.length) / B));
      expect(toks).toEqual(rows.map((_, b) => solo[b].tokens[step]));
      const S = out.present.length;
      const nextMask = new BigInt64Array(B * (S + 1));
      for (let b = 0; b < B; b++) {
        nextMask.set(fullMask.subarray(b * S, (b + 1) * S), b * (S + 1));
        nextMask[b * (S + 1) + S] = 1n;
      }
      fullMask = nextMask;
      const nextPos = BigInt64Array.from(rows, (r) => BigInt(r.length + step));
      out = await s.forward({ inputsEmbeds: s.embed(toks), batch: B, seqLen: 1, positionIds: nextPos, attentionMask: fullMask, past: out.present });
      rows.forEach((_, b) => (worst = Math.max(worst, maxAbsDiff(out.logits.subarray(b * V, (b + 1) * V), solo[b].logits[step + 1]))));
    }
    await s.release();
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it("a prompt prefilled in two chunks (the second on top of the cache) equals one prefill", async () => {
    const pkg = await loadModelPackage(dirOf("llama MHA untied theta 5e5 attention bias f32"), nodePackageFiles);
    const s = await DecoderSession.create(pkg, backend);
    const V = pkg.config.vocabSize;
    const ids = [100, 3, 200, 17, 18, 19, 20, 21, 22, 23];
    const whole = await greedyOne(s, ids, 0);
    const pos = (from: number, n: number) => BigInt64Array.from({ length: n }, (_, i) => BigInt(from + i));
    const first = await s.forward({ inputsEmbeds: s.embed(ids.slice(0, 4)), batch: 1, seqLen: 4, positionIds: pos(0, 4), attentionMask: new BigInt64Array(4).fill(1n), past: null });
    const second = await s.forward({ inputsEmbeds: s.embed(ids.slice(4)), batch: 1, seqLen: 6, positionIds: pos(4, 6), attentionMask: new BigInt64Array(10).fill(1n), past: first.present });
    expect(second.present.length).toBe(10);
    expect(maxAbsDiff(first.logits, whole.logits[0].subarray(0, 4 * V))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(second.logits, whole.logits[0].subarray(4 * V))).toBeLessThanOrEqual(1e-4);
    await s.release();
  });

  it("logits: 'last' returns only the last position, equal to the last row of 'all'", async () => {
    const pkg = await loadModelPackage(dirOf("llama GQA tied theta 1e4 f32"), nodePackageFiles);
    const s = await DecoderSession.create(pkg, backend);
    const ids = [5, 6, 7, 8];
    const req = { inputsEmbeds: s.embed(ids), batch: 1, seqLen: 4, positionIds: BigInt64Array.of(0n, 1n, 2n, 3n), attentionMask: new BigInt64Array(4).fill(1n), past: null };
    const all = await s.forward(req);
    const last = await s.forward({ ...req, logits: "last" });
    const V = pkg.config.vocabSize;
    expect(last.logits.length).toBe(V);
    expect(maxAbsDiff(last.logits, all.logits.subarray(3 * V))).toBeLessThanOrEqual(1e-6);
    await s.release();
  });
});

/** Copy of `pkg` whose tensors `name` are replaced by f32 data. */
function withWeights(pkg: ModelPackage, replace: Record<string, Float32Array>): ModelPackage {
  const m = new Map<string, TensorEntry>();
  for (const n of pkg.weights.names()) {
    const e = pkg.weights.entry(n);
    m.set(n, replace[n] ? { ...e, dtype: "F32", bytes: new Uint8Array(replace[n].buffer) } : e);
  }
  return { ...pkg, weights: new WeightStore(m), hash: pkg.hash + "-merged" };
}

describe("LoRA inputs", () => {
  it("a per-row low-rank update equals merging it into the weights; rank-0 rows are untouched", async () => {
    const pkg = await loadModelPackage(dirOf("llama GQA tied theta 1e4 f32"), nodePackageFiles);
    const c = pkg.config;
    const H = c.hiddenSize, I = c.intermediateSize, qW = c.numHeads * c.headDim, r = 3;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.5;
    const Aq = Float32Array.from({ length: H * r }, rnd), Bq = Float32Array.from({ length: r * qW }, rnd);
    const Ad = Float32Array.from({ length: I * r }, rnd), Bd = Float32Array.from({ length: r * H }, rnd);
    // W' [out, in] = W + (A B)^T
    const merge = (W: Float32Array, A: Float32Array, B: Float32Array, inDim: number, outDim: number) => {
      const out = Float32Array.from(W);
      for (let o = 0; o < outDim; o++) for (let i = 0; i < inDim; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += A[i * r + k] * B[k * outDim + o];
        out[o * inDim + i] += s;
      }
      return out;
    };
    const merged = withWeights(pkg, {
      "model.layers.0.self_attn.q_proj.weight": merge(pkg.weights.get("model.layers.0.self_attn.q_proj.weight").data, Aq, Bq, H, qW),
      "model.layers.1.mlp.down_proj.weight": merge(pkg.weights.get("model.layers.1.mlp.down_proj.weight").data, Ad, Bd, I, H),
    });
    const base = await DecoderSession.create(pkg, backend);
    const ref = await DecoderSession.create(merged, backend, { loraTargets: [] });
    const ids = [5, 6, 7, 8, 9];
    const T = ids.length;
    // Row 0 carries the adapter, row 1 none (zeros of the same rank in the batched inputs).
    const row = { layers: [{ q: { rank: r, A: Aq, B: Bq } }, { down: { rank: r, A: Ad, B: Bd } }], maxRank: r, weights: {}, versions: {} };
    const withAdapter = await greedyOne(ref, ids, 0);
    const without = await greedyOne(base, ids, 0);
    const n = T * c.vocabSize;
    expect(maxAbsDiff(withAdapter.logits[0], without.logits[0])).toBeGreaterThan(1e-2); // the adapter did something
    // All seven projections (q in the stacked q/k/v group), and a graph with inputs for q and down only.
    const only = await DecoderSession.create(pkg, backend, { loraTargets: ["q", "down"] });
    for (const s of [base, only]) {
      const out = await s.forward({
        inputsEmbeds: s.embed([...ids, ...ids]), batch: 2, seqLen: T,
        positionIds: BigInt64Array.from([...ids, ...ids], (_, i) => BigInt(i % T)), attentionMask: new BigInt64Array(2 * T).fill(1n), past: null,
        lora: build(c, s.loraTargets, [row, null]),
      });
      expect(maxAbsDiff(out.logits.subarray(0, n), withAdapter.logits[0])).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(out.logits.subarray(n), without.logits[0])).toBeLessThanOrEqual(1e-5);
    }
    await Promise.all([base.release(), ref.release(), only.release()]);
  });
});

describe("graph cache", () => {
  it("a second session with the same cacheDir loads the cached graph and gives the same logits", async () => {
    const cacheDir = join(root, "cache");
    const pkg = await loadModelPackage(dirOf("llama GQA tied theta 1e4 f32"), nodePackageFiles);
    const a = await DecoderSession.create(pkg, backend, { cacheDir });
    const b = await DecoderSession.create(pkg, backend, { cacheDir });
    const c = await DecoderSession.create(pkg, backend, { cacheDir, loraTargets: ["q"] }); // other options: other key
    expect([a.info.cached, b.info.cached, c.info.cached]).toEqual([false, true, false]);
    const ra = await greedyOne(a, [5, 6, 7], 3), rb = await greedyOne(b, [5, 6, 7], 3);
    expect(rb.tokens).toEqual(ra.tokens);
    expect(maxAbsDiff(rb.logits[3], ra.logits[3])).toBe(0);
    await Promise.all([a.release(), b.release(), c.release()]);
  });
});

/** Rewrite a safetensors file with a header edit (tensor bytes kept as they are). */
function rewriteSafetensors(src: string, dst: string, edit: (header: Record<string, any>) => void): void {
  const buf = readFileSync(src);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString());
  edit(header);
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(dst, Buffer.concat([len, h, buf.subarray(8 + n)]));
}

describe("int8 weights (quantize: \"int8\")", () => {
  it("stays close to f32 (cosine ≥ 0.995, top-1 agrees on ≥ 80% of positions) at under a third of the graph size", async () => {
    const pkg = await loadModelPackage(dirOf("qwen2 GQA untied (q/k/v bias) f32"), nodePackageFiles);
    const f32 = await DecoderSession.create(pkg, backend);
    const int8 = await DecoderSession.create(pkg, backend, { quantize: "int8" });
    const r = await compareQuantized(f32, int8, [5, 6, 7, 8, 9, 10, 11, 40, 41, 100, 3, 200, 17, 18, 19, 20]);
    expect(r.cosine).toBeGreaterThanOrEqual(0.995);
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.8);
    expect(int8.info.graphBytes).toBeLessThan(f32.info.graphBytes / 3);
    // The cached-decode path works on the quantized graph too.
    const g = await greedyOne(int8, [5, 6, 7], 3);
    expect(g.tokens.length).toBe(3);
    await Promise.all([f32.release(), int8.release()]);
  });
  it("an unknown quantize value lists the valid ones", async () => {
    const pkg = await loadModelPackage(dirOf("qwen2 GQA untied (q/k/v bias) f32"), nodePackageFiles);
    await expect(DecoderSession.create(pkg, backend, { quantize: "int4" as "int8" })).rejects.toThrow(/unknown quantize "int4"\. Should be one of: "none", "int8"/);
  });
});

describe("sharded checkpoints", () => {
  it("model.safetensors.index.json + two shards loads and gives the same logits as the single file", async () => {
    const src = dirOf("llama untied f16, head_dim 24 ≠ hidden/heads, 3 layers");
    const d = join(root, "sharded");
    mkdirSync(d, { recursive: true });
    for (const f of ["config.json", "tokenizer.json", "reference.json"]) copyFileSync(join(src, f), join(d, f));
    const buf = readFileSync(join(src, "model.safetensors"));
    const n = Number(buf.readBigUInt64LE(0));
    const tensors = Object.keys(JSON.parse(buf.subarray(8, 8 + n).toString())).filter((k) => k !== "__metadata__");
    const half = new Set(tensors.slice(0, Math.floor(tensors.length / 2)));
    // A shard holds the tensors `pred` picks, their data repacked contiguously.
    const shard = (file: string, pred: (name: string) => boolean) => {
      const header = JSON.parse(buf.subarray(8, 8 + n).toString());
      const kept = tensors.filter(pred);
      for (const k of Object.keys(header)) if (!kept.includes(k)) delete header[k];
      const parts: Buffer[] = [];
      let off = 0;
      for (const k of kept) {
        const [a, b] = header[k].data_offsets;
        parts.push(buf.subarray(8 + n + a, 8 + n + b));
        header[k].data_offsets = [off, off + (b - a)];
        off += b - a;
      }
      let h = Buffer.from(JSON.stringify(header));
      h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(h.length));
      writeFileSync(join(d, file), Buffer.concat([len, h, ...parts]));
      return kept;
    };
    const weightMap: Record<string, string> = {};
    for (const k of shard("model-00001-of-00002.safetensors", (x) => half.has(x))) weightMap[k] = "model-00001-of-00002.safetensors";
    for (const k of shard("model-00002-of-00002.safetensors", (x) => !half.has(x))) weightMap[k] = "model-00002-of-00002.safetensors";
    writeFileSync(join(d, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));

    const pkg = await loadModelPackage(d, nodePackageFiles);
    expect(pkg.weights.names().sort()).toEqual([...tensors].sort());
    const s = await DecoderSession.create(pkg, backend);
    const r = await checkAgainstReference(s, JSON.parse(readFileSync(join(d, "reference.json"), "utf8")));
    await s.release();
    expect(r.maxDiff).toBeLessThanOrEqual(1e-4);
    expect(r.tokensEqual).toBe(true);

    rmSync(join(d, "model-00002-of-00002.safetensors"));
    await expect(loadModelPackage(d, nodePackageFiles)).rejects.toThrow(/model-00002-of-00002\.safetensors: weight shard listed in the index is missing/);
  });
});

describe("bad model packages give clear errors", () => {
  const src = () => dirOf("llama GQA tied theta 1e4 f32");
  const variant = (name: string) => {
    const d = join(root, name);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    for (const f of ["config.json", "model.safetensors", "tokenizer.json"]) copyFileSync(join(src(), f), join(d, f));
    return d;
  };
  const loadError = async (d: string) => {
    try {
      await loadModelPackage(d, nodePackageFiles);
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      return (e as Error).message;
    }
    throw new Error("expected loadModelPackage to fail");
  };

  it("truncated safetensors names the file and the tensor that runs past the end", async () => {
    const d = variant("truncated");
    truncateSync(join(d, "model.safetensors"), 5000);
    expect(await loadError(d)).toMatch(/model\.safetensors: truncated safetensors file: tensor "[^"]+" ends at byte \d+/);
  });
  it("missing tensor names it and its expected shape", async () => {
    const d = variant("missing");
    rewriteSafetensors(join(src(), "model.safetensors"), join(d, "model.safetensors"), (h) => delete h["model.layers.1.mlp.up_proj.weight"]);
    expect(await loadError(d)).toMatch(/missing tensor "model\.layers\.1\.mlp\.up_proj\.weight" \(expected shape \[128,64\]\)/);
  });
  it("wrong shape names the tensor, the expected and the actual shape", async () => {
    const d = variant("shape");
    rewriteSafetensors(join(src(), "model.safetensors"), join(d, "model.safetensors"), (h) => (h["model.layers.0.self_attn.k_proj.weight"].shape = [64, 32]));
    expect(await loadError(d)).toMatch(/model\.safetensors: tensor "model\.layers\.0\.self_attn\.k_proj\.weight" has shape \[64,32\], expected \[32,64\]/);
  });
  it("unsupported architecture lists the supported ones", async () => {
    const d = variant("arch");
    const cfg = JSON.parse(readFileSync(join(d, "config.json"), "utf8"));
    writeFileSync(join(d, "config.json"), JSON.stringify({ ...cfg, architectures: ["GPT2LMHeadModel"] }));
    expect(await loadError(d)).toMatch(/config\.json: unsupported architecture "GPT2LMHeadModel"\. Should be one of: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM/);
  });
  it("unsupported rope_scaling and missing fields are named", async () => {
    const d = variant("rope");
    const cfg = JSON.parse(readFileSync(join(d, "config.json"), "utf8"));
    writeFileSync(join(d, "config.json"), JSON.stringify({ ...cfg, rope_scaling: { rope_type: "yarn", factor: 4 } }));
    expect(await loadError(d)).toMatch(/rope_scaling "yarn" is not supported/);
    const { hidden_size: _, ...noHidden } = cfg;
    writeFileSync(join(d, "config.json"), JSON.stringify(noHidden));
    expect(await loadError(d)).toMatch(/config\.json: missing required field "hidden_size"/);
  });
  it("bad forward requests are rejected with the expected shape", async () => {
    const pkg = await loadModelPackage(src(), nodePackageFiles);
    const s = await DecoderSession.create(pkg, backend);
    await expect(s.forward({ inputsEmbeds: new Float32Array(10), batch: 1, seqLen: 2, positionIds: new BigInt64Array(2), attentionMask: new BigInt64Array(2), past: null }))
      .rejects.toThrow(/inputsEmbeds has 10 elements, expected 128 = \[1, 2, 64\]/);
    expect(() => s.embed([5, 300])).toThrow(/token id 300 at index 1 is outside the vocabulary \[0, 300\)/);
    await s.release();
  });
});
