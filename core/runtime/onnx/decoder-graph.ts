import type { ModelConfig } from "../model/config.ts";
import type { WeightStore } from "../model/safetensors.ts";
import { hasOutputBias, layerPrefix } from "../model/tensors.ts";
import { GraphBuilder } from "./graph.ts";

// Builds the decoder as one ONNX graph (opset 17, standard ops only).
//
// Inputs
//   inputs_embeds                 [batch, seq, H]            f32
//   position_ids                  [batch, seq]               i64   (per row, so left padding works)
//   attention_mask                [batch, total]             i64   total = past + seq; 1 attend, 0 pad
//   logits_index                  [k]                        i64   positions (0..seq-1) to produce logits for
//   past_key_values.{i}.key|value [batch, kvh, past, hd]     f32   (the session passes its whole capacity
//                                                                  buffer; unused columns are masked)
//   lora.{i}.{g}.A                [batch, in_g, r]           f32   r may be 0 (no adapter)
//   lora.{i}.{g}.B                [batch, r, out_g]          f32   scaling folded in by the caller
//                                 [batch, n, r/m, chunk]           (stacked groups, see LoraGroupDims)
//     g is a LoRA group: projections that read the same input (qkv, o, gate_up, down). A group's
//     targets share one pair of MatMuls: A holds their A's side by side along the rank axis, and in
//     a stacked group each chunk of the fused output reads only its own target's rank columns.
// Outputs
//   logits                        [batch, k, V]              f32
//   new_key_values.{i}.key|value  [batch, kvh, seq, hd]      f32   only this run's columns: the session
//                                                                  writes them into its cache in place
//
// Layout choices (why): linear weights are stored pre-transposed [in, out] so MatMul runs without a
// Transpose (and ORT prepacks the constant B once); q/k/v and gate/up are fused into one MatMul each and split after; the softmax scale is
// folded into q's cos/sin tables; GQA needs no repeated K/V: q is laid out [B, kvh, g*T, hd] so each
// group of g query heads multiplies its own K/V head directly. The past is never concatenated with
// the new keys/values (that copied the whole cache every step): scores against past and new are
// computed separately and only the small score tensors are concatenated for the softmax.
// LoRA updates are grouped the same way as the fused projections: each per-row MatMul is a batch of
// tiny GEMMs whose cost is mostly per call, so q/k/v as one group and gate/up as another take the
// adapters' MatMuls from 14 to 8 per layer (measured: most of the adapter overhead on small models).

export const BUILDER_VERSION = 5;

export const LORA_TARGETS = ["q", "k", "v", "o", "gate", "up", "down"] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** Input and output width of each LoRA target projection. */
export function loraDims(c: ModelConfig, t: LoraTarget): { in: number; out: number } {
  const H = c.hiddenSize, I = c.intermediateSize, q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
  switch (t) {
    case "q": return { in: H, out: q };
    case "k": return { in: H, out: kv };
    case "v": return { in: H, out: kv };
    case "o": return { in: q, out: H };
    case "gate": return { in: H, out: I };
    case "up": return { in: H, out: I };
    case "down": return { in: I, out: H };
  }
}

/** Projections that read the same input, fused into one MatMul by the graph and one LoRA update. */
export const LORA_GROUPS = { qkv: ["q", "k", "v"], o: ["o"], gate_up: ["gate", "up"], down: ["down"] } as const satisfies Record<string, readonly LoraTarget[]>;
export type LoraGroup = keyof typeof LORA_GROUPS;

export interface LoraGroupDims {
  in: number;
  /** Width of the fused output. */
  out: number;
  /** Where each target's columns sit in the fused output. */
  columns: Record<string, { offset: number; width: number }>;
  /** Groups of several targets are stacked: every target gets the same rank r, the fused output is
   *  cut into chunks of one width (each target's columns in whole chunks: q is g chunks of k's width
   *  under GQA), and B is [batch, chunks, r, chunk] with no zeros in it. chunkTarget[c] is the target
   *  (index in the group) whose rank columns chunk c reads. Single-target groups: null, B [batch, r, out]. */
  stack: { chunk: number; chunkTarget: number[] } | null;
}

export function loraGroupDims(c: ModelConfig, group: LoraGroup): LoraGroupDims {
  const columns: Record<string, { offset: number; width: number }> = {};
  let out = 0;
  for (const t of LORA_GROUPS[group]) {
    const d = loraDims(c, t);
    columns[t] = { offset: out, width: d.out };
    out += d.out;
  }
  const widths = Object.values(columns).map((x) => x.width);
  const chunk = Math.min(...widths);
  const stack = widths.length > 1 && widths.every((w) => w % chunk === 0)
    ? { chunk, chunkTarget: widths.flatMap((w, k) => new Array<number>(w / chunk).fill(k)) }
    : null;
  return { in: loraDims(c, LORA_GROUPS[group][0]).in, out, columns, stack };
}

/** Elements of one row's B for a group of total rank R: stacked, each target's r = R / targets rows
 *  span only its own columns ([chunks, r, chunk] = r·out); otherwise block-diagonal [R, out]. */
export function loraBLength(d: LoraGroupDims, R: number): number {
  return d.stack ? (R / Object.keys(d.columns).length) * d.out : R * d.out;
}

/** The groups that have at least one of `targets`, in graph order. */
export function loraGroupsOf(targets: readonly LoraTarget[]): LoraGroup[] {
  return (Object.keys(LORA_GROUPS) as LoraGroup[]).filter((g) => LORA_GROUPS[g].some((t) => targets.includes(t)));
}

export interface DecoderGraphOptions {
  loraTargets: readonly LoraTarget[];
  /** "int8": linear weights as int8 with one f32 scale per output column (symmetric), activations
   *  quantized per run (DynamicQuantizeLinear → MatMulInteger, which ORT fuses); 4× smaller weights. */
  quantize?: "none" | "int8";
  /** How a LoRA group's update is applied. "standard" (default): two batched MatMuls and an Add per
   *  group, standard operators that every onnxruntime runs. "kith": one kith.LoraAdd node per group,
   *  the project's own kernel, which only sessions of the native binding (native/kith-ort) know. */
  loraOp?: "standard" | "kith";
  /** Called after each of numLayers + 1 steps (the layers, then lm_head + writing the bytes, which on
   *  SmolLM-135M takes as long as ten layers); large models take seconds per step. */
  onStep?: (done: number, total: number, what: string) => void;
}

/** Symmetric per-column int8: w[i, n] ≈ q[i, n] · scale[n]; `w` is [in, out] row-major. Values use
 *  7 bits (±63): x86 u8×s8 kernels without VNNI add pairs of products in int16, which 8-bit weights
 *  times 8-bit activations can overflow (saturate); 7 bits cannot. */
function quantizeColumns(w: Float32Array, inDim: number, outDim: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(outDim);
  for (let i = 0; i < inDim; i++) {
    const row = i * outDim;
    for (let n = 0; n < outDim; n++) scale[n] = Math.max(scale[n], Math.abs(w[row + n]));
  }
  for (let n = 0; n < outDim; n++) scale[n] = scale[n] > 0 ? scale[n] / 63 : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < inDim; i++) {
    const row = i * outDim;
    for (let n = 0; n < outDim; n++) q[row + n] = Math.round(w[row + n] / scale[n]);
  }
  return { q, scale };
}

/** Stack [out_k, in] row-major matrices along `out` and transpose: → [in, Σ out_k] row-major.
 *  Copies in 32×32 tiles (about 2× faster than row by row, which strides through the destination).
 *  Transposing here rather than as a Transpose node that ORT constant-folds was measured: folding made
 *  session creation slower and left the graph cache nothing to save. */
function stackTransposed(parts: Float32Array[], outs: number[], inDim: number): Float32Array {
  const total = outs.reduce((x, y) => x + y, 0);
  const dst = new Float32Array(inDim * total);
  const TILE = 32;
  let off = 0;
  parts.forEach((src, k) => {
    const rows = outs[k];
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const r1 = Math.min(rows, r0 + TILE);
      for (let c0 = 0; c0 < inDim; c0 += TILE) {
        const c1 = Math.min(inDim, c0 + TILE);
        for (let r = r0; r < r1; r++) {
          const base = r * inDim;
          for (let c = c0; c < c1; c++) dst[c * total + off + r] = src[base + c];
        }
      }
    }
    off += rows;
  });
  return dst;
}

export function buildDecoderGraph(c: ModelConfig, w: WeightStore, opts: DecoderGraphOptions): { bytes: Uint8Array; nodes: number } {
  const g = new GraphBuilder("kith_decoder");
  const H = c.hiddenSize, I = c.intermediateSize, hd = c.headDim, nh = c.numHeads, kvh = c.numKvHeads;
  const grp = nh / kvh;
  const qW = nh * hd, kvW = kvh * hd;
  const loraGroups = new Set(loraGroupsOf(opts.loraTargets));

  const x0 = g.input("inputs_embeds", "float32", ["batch", "seq", H]);
  const pos = g.input("position_ids", "int64", ["batch", "seq"]);
  const mask = g.input("attention_mask", "int64", ["batch", "total"]);
  const logitsIndex = g.input("logits_index", "int64", ["k"]);

  // Rotary tables, shared by all layers: angle[b,t,j] = pos[b,t] * invFreq[j mod hd/2].
  const invFreq = new Float32Array(hd);
  for (let j = 0; j < hd / 2; j++) {
    // Computed in float64, rounded once to f32 (training/model.py does the same).
    const f = Math.fround(1 / c.ropeTheta ** ((2 * j) / hd));
    invFreq[j] = f;
    invFreq[j + hd / 2] = f;
  }
  const posF = g.op("Unsqueeze", [g.op("Cast", [pos], { to: { i: 1 } }), g.ints([-1])]); // [B,T,1]
  const angle = g.op("Mul", [posF, g.init("rope_inv_freq", "float32", [hd], invFreq)]); // [B,T,hd]
  const cos = g.op("Unsqueeze", [g.op("Cos", [angle]), g.ints([2])]); // [B,T,1,hd]
  const sin = g.op("Unsqueeze", [g.op("Sin", [angle]), g.ints([2])]);
  const scale = g.floats([1 / Math.sqrt(hd)], true);
  const cosQ = g.op("Mul", [cos, scale]);
  const sinQ = g.op("Mul", [sin, scale]);
  // rotate_half(x) = cat(-x2, x1) as x @ R, R [hd, hd].
  const R = new Float32Array(hd * hd);
  for (let j = 0; j < hd / 2; j++) {
    R[(j + hd / 2) * hd + j] = -1; // out j      = -x[j + hd/2]
    R[j * hd + (j + hd / 2)] = 1; //  out j+hd/2 =  x[j]
  }
  const rot = g.init("rope_rotate_half", "float32", [hd, hd], R);
  const rope = (t: string, cs: string, sn: string) => g.op("Add", [g.op("Mul", [t, cs]), g.op("Mul", [g.op("MatMul", [t, rot]), sn])]);

  // Additive attention mask [B,1,g*T,S]: key j visible to query i (absolute index P+i) iff j <= P+i
  // and attention_mask[b,j] = 1. Rows are repeated g times to match q's [kvh, g*T] layout.
  const S1 = g.op("Shape", [mask], { start: { i: 1 }, end: { i: 2 } });
  const T1 = g.op("Shape", [x0], { start: { i: 1 }, end: { i: 2 } });
  const S = g.op("Squeeze", [S1, g.ints([0])]);
  const P1 = g.op("Sub", [S1, T1]);
  const P = g.op("Squeeze", [P1, g.ints([0])]);
  const splitPastNew = g.op("Concat", [P1, T1], { axis: { i: 0 } }); // [P, T]: softmax columns → past | new
  const zero = g.ints([0], true), one = g.ints([1], true);
  const kIdx = g.op("Unsqueeze", [g.op("Range", [zero, S, one]), g.ints([0])]); // [1,S]
  const qIdx = g.op("Unsqueeze", [g.op("Range", [P, S, one]), g.ints([1])]); // [T,1]
  const causal = g.op("LessOrEqual", [kIdx, qIdx]); // [T,S]
  const pad = g.op("Unsqueeze", [g.op("Cast", [mask], { to: { i: 9 } }), g.ints([1])]); // [B,1,S]
  const allowed = g.op("And", [causal, pad]); // [B,T,S]
  let addMask = g.op("Unsqueeze", [g.op("Where", [allowed, g.floats([0], true), g.floats([-1e9], true)]), g.ints([1])]); // [B,1,T,S]
  if (grp > 1) addMask = g.op("Tile", [addMask, g.ints([1, 1, grp, 1])]);

  const weight = (name: string, shape: number[]) => w.get(name, shape).data;
  // x [.., in] @ W → [.., Σ out] where W [in, Σ out] stacks checkpoint matrices [out_k, in] along out.
  const int8 = opts.quantize === "int8";
  const project = (x: string, id: string, parts: { name: string; out: number }[], inDim: number, output?: string) => {
    const outDim = parts.reduce((a, p) => a + p.out, 0);
    const data = stackTransposed(parts.map((p) => weight(p.name, [p.out, inDim])), parts.map((p) => p.out), inDim);
    if (!int8) return g.op("MatMul", [x, g.init(id, "float32", [inDim, outDim], data)], {}, output);
    // The exact pattern ORT's dynamic-quantize MatMul fusion expects.
    const { q, scale } = quantizeColumns(data, inDim, outDim);
    const [xq, xScale, xZero] = g.opN("DynamicQuantizeLinear", [x], 3);
    const acc = g.op("MatMulInteger", [xq, g.init(`${id}.q`, "int8", [inDim, outDim], q), xZero]);
    const s = g.op("Mul", [xScale, g.init(`${id}.scale`, "float32", [outDim], scale)]);
    return g.op("Mul", [g.op("Cast", [acc], { to: { i: 1 } }), s], {}, output);
  };

  const rmsNorm = (x: string, wName: string, initName: string) => {
    // Pow → ReduceMean → Add → Sqrt → Div → Mul: the pattern ORT fuses into SimplifiedLayerNormalization.
    const v = g.op("ReduceMean", [g.op("Pow", [x, g.floats([2], true)])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    const n = g.op("Div", [x, g.op("Sqrt", [g.op("Add", [v, g.floats([c.rmsNormEps], true)])])]);
    return g.op("Mul", [n, g.init(initName, "float32", [H], weight(wName, [H]))]);
  };
  const withLora = (i: number, group: LoraGroup, x: string, y: string) => {
    if (!loraGroups.has(group)) return y;
    const d = loraGroupDims(c, group);
    const A = g.input(`lora.${i}.${group}.A`, "float32", ["batch", d.in, `rank_${i}_${group}`]);
    if (opts.loraOp === "kith") {
      // One kernel per group (native/kith-ort): y + (x·A)·B for every row, chunks as in LoraGroupDims.
      const B = d.stack
        ? g.input(`lora.${i}.${group}.B`, "float32", ["batch", d.stack.chunkTarget.length, `rank_${i}_${group}_each`, d.stack.chunk])
        : g.input(`lora.${i}.${group}.B`, "float32", ["batch", `rank_${i}_${group}`, d.out]);
      return g.opIn("kith", "LoraAdd", [y, x, A, B, g.ints(d.stack ? d.stack.chunkTarget : [0])]);
    }
    if (!d.stack) {
      const B = g.input(`lora.${i}.${group}.B`, "float32", ["batch", `rank_${i}_${group}`, d.out]);
      return g.op("Add", [y, g.op("MatMul", [g.op("MatMul", [x, A]), B])]);
    }
    // Stacked: xA [B,T,m·r] → [B,T,m,r] → (each chunk's target) [B,T,n,r] → [B,n,T,r]
    //          · B [B,n,r,w] → [B,n,T,w] → [B,T,n·w]
    const { chunk, chunkTarget } = d.stack, m = LORA_GROUPS[group].length, n = chunkTarget.length;
    const B = g.input(`lora.${i}.${group}.B`, "float32", ["batch", n, `rank_${i}_${group}_each`, chunk]);
    let xa = g.op("Reshape", [g.op("MatMul", [x, A]), g.ints([0, 0, m, -1])]);
    if (n !== m) xa = g.op("Gather", [xa, g.ints(chunkTarget)], { axis: { i: 2 } });
    const upd = g.op("MatMul", [g.op("Transpose", [xa], { perm: { ints: [0, 2, 1, 3] } }), B]);
    return g.op("Add", [y, g.op("Reshape", [g.op("Transpose", [upd], { perm: { ints: [0, 2, 1, 3] } }), g.ints([0, 0, d.out])])]);
  };

  let x = x0;
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    const pastK = g.input(`past_key_values.${i}.key`, "float32", ["batch", kvh, "past", hd]);
    const pastV = g.input(`past_key_values.${i}.value`, "float32", ["batch", kvh, "past", hd]);

    // --- attention ---
    const h = rmsNorm(x, `${p}.input_layernorm.weight`, `l${i}.attn_norm`);
    let qkv = project(h, `l${i}.wqkv`, [
      { name: `${p}.self_attn.q_proj.weight`, out: qW },
      { name: `${p}.self_attn.k_proj.weight`, out: kvW },
      { name: `${p}.self_attn.v_proj.weight`, out: kvW },
    ], H); // [B,T,q+2kv]
    if (c.attentionBias) {
      const b = new Float32Array(qW + 2 * kvW);
      b.set(weight(`${p}.self_attn.q_proj.bias`, [qW]), 0);
      b.set(weight(`${p}.self_attn.k_proj.bias`, [kvW]), qW);
      b.set(weight(`${p}.self_attn.v_proj.bias`, [kvW]), qW + kvW);
      qkv = g.op("Add", [qkv, g.init(`l${i}.bqkv`, "float32", [qW + 2 * kvW], b)]);
    }
    qkv = withLora(i, "qkv", h, qkv);
    const [q, k, v] = g.opN("Split", [qkv, g.ints([qW, kvW, kvW])], 3, { axis: { i: -1 } });

    const q4 = rope(g.op("Reshape", [q, g.ints([0, 0, nh, hd])]), cosQ, sinQ); // [B,T,nh,hd], pre-scaled
    const k4 = rope(g.op("Reshape", [k, g.ints([0, 0, kvh, hd])]), cos, sin); // [B,T,kvh,hd]
    const v4 = g.op("Reshape", [v, g.ints([0, 0, kvh, hd])]);
    const newK = g.op("Transpose", [k4], { perm: { ints: [0, 2, 1, 3] } }, `new_key_values.${i}.key`); // [B,kvh,T,hd]
    const newV = g.op("Transpose", [v4], { perm: { ints: [0, 2, 1, 3] } }, `new_key_values.${i}.value`);
    g.output(newK, "float32", ["batch", kvh, "seq", hd]);
    g.output(newV, "float32", ["batch", kvh, "seq", hd]);

    // q: [B,T,kvh,g,hd] → [B,kvh,g,T,hd] → [B,kvh,g*T,hd]
    const qg = g.op("Reshape", [
      g.op("Transpose", [g.op("Reshape", [q4, g.ints([0, 0, kvh, grp, hd])])], { perm: { ints: [0, 2, 3, 1, 4] } }),
      g.ints([0, 0, -1, hd]),
    ]);
    const kT = (k: string) => g.op("Transpose", [k], { perm: { ints: [0, 1, 3, 2] } }); // ORT folds it into the MatMul
    const scoresPast = g.op("MatMul", [qg, kT(pastK)]); // [B,kvh,gT,P]
    const scoresNew = g.op("MatMul", [qg, kT(newK)]); // [B,kvh,gT,T]
    const scores = g.op("Add", [g.op("Concat", [scoresPast, scoresNew], { axis: { i: -1 } }), addMask]); // [B,kvh,gT,S]
    const [probsPast, probsNew] = g.opN("Split", [g.op("Softmax", [scores], { axis: { i: -1 } }), splitPastNew], 2, { axis: { i: -1 } });
    const ctx = g.op("Add", [g.op("MatMul", [probsPast, pastV]), g.op("MatMul", [probsNew, newV])]); // [B,kvh,gT,hd]
    // back to [B,T,nh*hd]: [B,kvh,g,T,hd] → [B,T,kvh,g,hd] → [B,T,q]
    const attn = g.op("Reshape", [
      g.op("Transpose", [g.op("Reshape", [ctx, g.ints([0, 0, grp, -1, hd])])], { perm: { ints: [0, 3, 1, 2, 4] } }),
      g.ints([0, 0, qW]),
    ]);
    let o = project(attn, `l${i}.wo`, [{ name: `${p}.self_attn.o_proj.weight`, out: H }], qW);
    if (hasOutputBias(c)) o = g.op("Add", [o, g.init(`l${i}.bo`, "float32", [H], weight(`${p}.self_attn.o_proj.bias`, [H]))]);
    o = withLora(i, "o", attn, o);
    x = g.op("Add", [x, o]);

    // --- MLP: down(silu(gate(h)) * up(h)) ---
    const h2 = rmsNorm(x, `${p}.post_attention_layernorm.weight`, `l${i}.mlp_norm`);
    const gu = withLora(i, "gate_up", h2, project(h2, `l${i}.wgu`, [{ name: `${p}.mlp.gate_proj.weight`, out: I }, { name: `${p}.mlp.up_proj.weight`, out: I }], H));
    const [gate, up] = g.opN("Split", [gu, g.ints([I, I])], 2, { axis: { i: -1 } });
    const act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up]);
    let down = project(act, `l${i}.wdown`, [{ name: `${p}.mlp.down_proj.weight`, out: H }], I);
    down = withLora(i, "down", act, down);
    x = g.op("Add", [x, down]);
    opts.onStep?.(i + 1, c.numLayers + 1, `layer ${i + 1}/${c.numLayers}`);
  }

  const hf = rmsNorm(g.op("Gather", [x, logitsIndex], { axis: { i: 1 } }), "model.norm.weight", "final_norm"); // [B,k,H]
  const lmName = c.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  project(hf, "lm_head_t", [{ name: lmName, out: c.vocabSize }], H, "logits");
  g.output("logits", "float32", ["batch", "k", c.vocabSize]);

  const bytes = g.serialize(`decoder-graph v${BUILDER_VERSION}`);
  opts.onStep?.(c.numLayers + 1, c.numLayers + 1, "lm_head and serialization");
  return { bytes, nodes: g.nodeCount };
}
