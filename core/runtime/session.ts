import type { Tensor } from "onnxruntime-common";
import type { Backend, OrtSession } from "./backend.ts";
import type { ModelConfig } from "./model/config.ts";
import { ModelError } from "./model/errors.ts";
import type { ModelPackage } from "./model/package.ts";
import { BUILDER_VERSION, buildDecoderGraph, LORA_GROUPS, LORA_TARGETS, loraBLength, loraGroupDims, loraGroupsOf, type LoraGroup, type LoraGroupDims, type LoraTarget } from "./onnx/decoder-graph.ts";
import { graphCacheKey } from "./onnx/graph-cache.ts";
import { allocCache, appendColumns, canAppendInPlace, capacityFor, capacityOf, regrow, type KvCache, type KvShape } from "./kv-cache.ts";

export { LORA_GROUPS, LORA_TARGETS, type LoraGroup, type LoraTarget } from "./onnx/decoder-graph.ts";

export type { KvCache } from "./kv-cache.ts";

/** One low-rank update y += (x @ A) @ B per batch row on a LoRA group's fused output;
 *  A [batch, in, rank]; B [batch, rank, out] for a single-target group, [batch, chunks, rank / targets,
 *  chunk] for a stacked one (loraGroupDims). The LoRA scaling (alpha / r, mixture weights) is folded
 *  into B by the caller. Built from per-target updates by lora/batch-inputs.ts. */
export interface LoraFactor {
  rank: number;
  A: Float32Array;
  B: Float32Array;
}
/** Index = layer; a missing layer or group means rank 0 (no update). */
export type LoraInputs = Array<Partial<Record<LoraGroup, LoraFactor>> | undefined>;

export interface ForwardRequest {
  inputsEmbeds: Float32Array; // [batch, seqLen, H]
  batch: number;
  seqLen: number;
  positionIds: BigInt64Array; // [batch, seqLen]
  attentionMask: BigInt64Array; // [batch, past + seqLen], 1 = attend, 0 = pad
  past: KvCache | null;
  lora?: LoraInputs;
  /** "all" (default): logits for every position; "last": only position seqLen-1 (logits [batch,1,V]). */
  logits?: "all" | "last";
}

export interface ForwardResult {
  logits: Float32Array; // [batch, seqLen or 1, V]
  /** length = past + seqLen. Shares buffers with `past` when they had room (kv-cache.ts); `past`
   *  itself still describes the same columns as before. */
  present: KvCache;
}

export interface DecoderSessionOptions {
  maxBatch?: number;
  cacheDir?: string; // Node: where built graphs are cached (backend.openGraphCache)
  loraTargets?: LoraTarget[]; // which projections get LoRA inputs; default all seven
  quantize?: "none" | "int8";
  /** Progress lines for the slow parts (graph build per layer with an ETA, session creation), e.g.
   *  `(line) => process.stderr.write(line + "\n")`. At most about one line a second. */
  onProgress?: (line: string) => void;
}

/** The decoder on one ONNX Runtime session. Runs are serialized (web sessions cannot run
 *  concurrently; on Node a second concurrent run would only compete for the same cores). */
export class DecoderSession {
  readonly config: ModelConfig;
  readonly loraTargets: readonly LoraTarget[];
  /** The LoRA groups with inputs in this graph (those holding any of loraTargets). */
  readonly loraGroups: readonly LoraGroup[];
  private readonly groupDims: ReadonlyMap<LoraGroup, LoraGroupDims>;
  /** How the graph was obtained and its size, for logs and benchmarks. */
  readonly info: { cached: boolean; buildMs: number; sessionMs: number; graphBytes: number; nodes: number | null };
  private queue: Promise<unknown> = Promise.resolve();
  private embedTable: Float32Array;

  private constructor(
    private readonly backend: Backend,
    private readonly session: OrtSession,
    pkg: ModelPackage,
    loraTargets: readonly LoraTarget[],
    private readonly maxBatch: number,
    info: DecoderSession["info"],
  ) {
    this.config = pkg.config;
    this.loraTargets = loraTargets;
    this.loraGroups = loraGroupsOf(loraTargets);
    this.groupDims = new Map(this.loraGroups.map((g) => [g, loraGroupDims(pkg.config, g)]));
    this.info = info;
    // A copy, not a view: a view of an f32 checkpoint would keep the whole file buffer alive after the
    // package is dropped (the graph has its own copy of every other weight).
    this.embedTable = pkg.weights.get("model.embed_tokens.weight", [pkg.config.vocabSize, pkg.config.hiddenSize]).data.slice();
  }

  static async create(pkg: ModelPackage, backend: Backend, opts: DecoderSessionOptions = {}): Promise<DecoderSession> {
    const quantize = opts.quantize ?? "none";
    if (quantize !== "none" && quantize !== "int8") throw new ModelError(`unknown quantize ${JSON.stringify(quantize)}. Should be one of: "none", "int8"`);
    const loraTargets = opts.loraTargets ?? [...LORA_TARGETS];
    for (const t of loraTargets) {
      if (!LORA_TARGETS.includes(t)) throw new ModelError(`unknown LoRA target ${JSON.stringify(t)}. Should be one of: ${LORA_TARGETS.join(", ")}`);
    }
    const graphOptions = { loraTargets: [...loraTargets].sort(), quantize, loraOp: backend.loraOp ?? "standard" };
    const cache = opts.cacheDir && backend.openGraphCache ? backend.openGraphCache(opts.cacheDir) : null;
    const key = graphCacheKey({ builderVersion: BUILDER_VERSION, config: pkg.config, packageHash: pkg.hash, options: graphOptions });

    const t0 = performance.now();
    let bytes = cache ? await cache.get(key) : null;
    const cached = bytes !== null;
    let nodes: number | null = null;
    const say = opts.onProgress;
    if (!bytes) {
      let lastSaid = t0;
      const onStep = say && ((done: number, total: number, what: string) => {
        const now = performance.now();
        if (now - lastSaid < 1000 && done < total) return;
        lastSaid = now;
        const s = (now - t0) / 1000;
        say(`decoder graph: ${what} done, ${s.toFixed(1)} s, ETA ${((s / done) * (total - done)).toFixed(1)} s`);
      });
      const built = buildDecoderGraph(pkg.config, pkg.weights, { loraTargets: graphOptions.loraTargets as LoraTarget[], quantize, loraOp: graphOptions.loraOp, onStep });
      bytes = built.bytes;
      nodes = built.nodes;
      if (cache) await cache.put(key, bytes);
    }
    const t1 = performance.now();
    // One native call that blocks the thread (no progress from inside); onnxruntime optimizes and
    // prepacks every weight here. The estimate is the rate seen on the shared 2-core VM: a 538 MB
    // SmolLM-135M graph took 41 s (load average ~15), i.e. ~13 MB/s; a quiet machine is faster.
    say?.(`decoder graph: ${cached ? "loaded from cache" : "built"} (${(bytes.byteLength / 1e6).toFixed(0)} MB, ${((t1 - t0) / 1000).toFixed(1)} s); creating onnxruntime session, ETA up to ~${Math.ceil(bytes.byteLength / 13e6)} s ...`);
    const session = await backend.ort.InferenceSession.create(bytes, {
      executionProviders: backend.executionProviders,
      graphOptimizationLevel: "all",
      ...backend.sessionOptions,
    });
    const t2 = performance.now();
    say?.(`decoder session ready in ${((t2 - t1) / 1000).toFixed(1)} s`);
    return new DecoderSession(backend, session, pkg, loraTargets, opts.maxBatch ?? Infinity, {
      cached,
      buildMs: t1 - t0,
      sessionMs: t2 - t1,
      graphBytes: bytes.byteLength,
      nodes,
    });
  }

  /** Rows of embed_tokens for `ids`: [n, H]. */
  embed(ids: Int32Array | number[]): Float32Array {
    const H = this.config.hiddenSize, V = this.config.vocabSize;
    const out = new Float32Array(ids.length * H);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new ModelError(`embed: token id ${id} at index ${i} is outside the vocabulary [0, ${V})`);
      out.set(this.embedTable.subarray(id * H, (id + 1) * H), i * H);
    }
    return out;
  }

  forward(req: ForwardRequest): Promise<ForwardResult> {
    const run = this.queue.then(() => this.run(req));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(req: ForwardRequest): Promise<ForwardResult> {
    const c = this.config;
    const { batch: B, seqLen: T } = req;
    const Tn = this.backend.ort.Tensor;
    if (!Number.isInteger(B) || B < 1) throw new ModelError(`forward: batch must be a positive integer, got ${B}`);
    if (B > this.maxBatch) throw new ModelError(`forward: batch ${B} exceeds maxBatch ${this.maxBatch}`);
    if (!Number.isInteger(T) || T < 1) throw new ModelError(`forward: seqLen must be a positive integer, got ${T}`);
    const P = req.past ? req.past.length : 0;
    const C = req.past ? capacityOf(req.past) : 0; // columns the graph sees as past; [P, C) are masked
    const S = P + T;
    const expect = (what: string, got: number, want: number, shape: string) => {
      if (got !== want) throw new ModelError(`forward: ${what} has ${got} elements, expected ${want} = ${shape}`);
    };
    expect("inputsEmbeds", req.inputsEmbeds.length, B * T * c.hiddenSize, `[${B}, ${T}, ${c.hiddenSize}]`);
    expect("positionIds", req.positionIds.length, B * T, `[${B}, ${T}]`);
    expect("attentionMask", req.attentionMask.length, B * S, `[${B}, ${P} + ${T}]`);
    const kvShape = [B, c.numKvHeads, C, c.headDim];
    const kvLen = B * c.numKvHeads * C * c.headDim;
    if (req.past) {
      if (!Number.isInteger(P) || P < 0 || !Number.isInteger(C) || C < P) throw new ModelError(`forward: past cache has length ${P} and capacity ${C}; expected integers with 0 <= length <= capacity`);
      if (req.past.batch !== B) throw new ModelError(`forward: past cache has batch ${req.past.batch}, request has ${B}`);
      if (req.past.key.length !== c.numLayers || req.past.value.length !== c.numLayers) {
        throw new ModelError(`forward: past cache has ${req.past.key.length} layers, model has ${c.numLayers}`);
      }
    }

    const feeds: Record<string, Tensor> = {
      inputs_embeds: new Tn("float32", req.inputsEmbeds, [B, T, c.hiddenSize]),
      position_ids: new Tn("int64", req.positionIds, [B, T]),
      attention_mask: new Tn("int64", C === P ? req.attentionMask : widenMask(req.attentionMask, B, P, C, T), [B, C + T]),
      logits_index:
        req.logits === "last"
          ? new Tn("int64", BigInt64Array.of(BigInt(T - 1)), [1])
          : new Tn("int64", BigInt64Array.from({ length: T }, (_, i) => BigInt(i)), [T]),
    };
    if (req.lora) {
      if (req.lora.length > c.numLayers) throw new ModelError(`forward: lora has ${req.lora.length} layers, model has ${c.numLayers}`);
      req.lora.forEach((layer, i) => {
        for (const g of Object.keys(layer ?? {})) {
          if (!this.loraGroups.includes(g as LoraGroup)) {
            throw new ModelError(`forward: lora[${i}].${g} is not a LoRA input group of this session. Should be one of: ${this.loraGroups.join(", ") || "(none; created with loraTargets: [])"}`);
          }
        }
      });
    }
    const emptyKv = new Float32Array(0);
    for (let i = 0; i < c.numLayers; i++) {
      const k = req.past ? req.past.key[i] : emptyKv;
      const v = req.past ? req.past.value[i] : emptyKv;
      expect(`past.key[${i}]`, k.length, kvLen, `${JSON.stringify(kvShape)} (batch, kv heads, capacity, head dim)`);
      expect(`past.value[${i}]`, v.length, kvLen, `${JSON.stringify(kvShape)} (batch, kv heads, capacity, head dim)`);
      feeds[`past_key_values.${i}.key`] = new Tn("float32", k, kvShape);
      feeds[`past_key_values.${i}.value`] = new Tn("float32", v, kvShape);
      for (const g of this.loraGroups) {
        const d = this.groupDims.get(g)!;
        const f = req.lora?.[i]?.[g];
        const r = f ? f.rank : 0;
        const m = LORA_GROUPS[g].length;
        if (d.stack && r % m !== 0) throw new ModelError(`forward: lora[${i}].${g} has rank ${r}; its ${m} targets share one rank, so it must be a multiple of ${m}`);
        // Stacked groups: B [B, chunks, r/targets, chunk]; others: B [B, r, out] (LoraFactor).
        const bShape = d.stack ? [B, d.stack.chunkTarget.length, r / m, d.stack.chunk] : [B, r, d.out];
        if (f) {
          expect(`lora[${i}].${g}.A`, f.A.length, B * d.in * r, `[${B}, ${d.in}, ${r}]`);
          expect(`lora[${i}].${g}.B`, f.B.length, B * loraBLength(d, r), JSON.stringify(bShape));
        }
        feeds[`lora.${i}.${g}.A`] = new Tn("float32", f ? f.A : emptyKv, [B, d.in, r]);
        feeds[`lora.${i}.${g}.B`] = new Tn("float32", f ? f.B : emptyKv, bShape);
      }
    }

    const out = await this.session.run(feeds);
    const newKey: Float32Array[] = [], newValue: Float32Array[] = [];
    for (let i = 0; i < c.numLayers; i++) {
      newKey.push(out[`new_key_values.${i}.key`].data as Float32Array);
      newValue.push(out[`new_key_values.${i}.value`].data as Float32Array);
    }
    // In place when the past's buffers have room and nobody else appended to them; otherwise copy
    // the valid columns into buffers with room to grow (every CAPACITY_CHUNK steps, or on a branch).
    const shape: KvShape = { numLayers: c.numLayers, numKvHeads: c.numKvHeads, headDim: c.headDim };
    const base = !req.past ? allocCache(B, 0, capacityFor(T), shape) : canAppendInPlace(req.past, T) ? req.past : regrow(req.past, capacityFor(S), shape);
    const present = appendColumns(base, newKey, newValue, T, shape);
    return { logits: out.logits.data as Float32Array, present };
  }

  async release(): Promise<void> {
    await this.queue;
    await this.session.release();
  }
}

/** The caller's mask [B, P+T] laid out for a capacity-C past: [B, C+T] with columns [P, C) zero. */
function widenMask(mask: BigInt64Array, B: number, P: number, C: number, T: number): BigInt64Array {
  const out = new BigInt64Array(B * (C + T));
  for (let b = 0; b < B; b++) {
    const src = b * (P + T), dst = b * (C + T);
    out.set(mask.subarray(src, src + P), dst);
    out.set(mask.subarray(src + P, src + P + T), dst + C);
  }
  return out;
}
