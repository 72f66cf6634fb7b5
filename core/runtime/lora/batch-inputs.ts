import type { ModelConfig } from "../model/config.ts";
import { LORA_GROUPS, loraBLength as bLength, loraGroupDims, loraGroupsOf, type LoraGroupDims } from "../onnx/decoder-graph.ts";
import type { LoraInputs, LoraTarget } from "../session.ts";
import type { LowRank } from "./pack.ts";
import type { FoldedLora } from "./mixture.ts";

// Per-row updates → the decoder's batched lora inputs: for each (layer, group)
//   A [B, in, R], R = Σ over the group's targets of the largest rank of any row there (in a stacked
//   group every target gets the largest of them); B as loraGroupDims lays it out.
// Target t owns rank columns [o_t, o_t + R_t) of A and the matching rows of B, which write only t's
// columns of the fused output. A row with a smaller rank (or none) is zero-padded,
// so (x·A)·B is unchanged. The result is cached and reused while the rows (and their updates) stay
// the same, which is every decode step between joins and leaves; rebuilding copies every row's
// factors (≈10 MB per rank-8, all-projection adapter on a 135M model). Rebuilds write into the
// previous build's buffers when the sizes match: fresh 150 MB allocations (16 rows) cost more in
// page faults than the copy itself. Safe because a batch runs one forward at a time and asks for
// new inputs only after the previous forward has finished.

export class BatchLoraInputs {
  private lastRows: (FoldedLora | null)[] = [];
  private last: LoraInputs | undefined;
  private readonly pool = new Map<string, Float32Array>();
  readonly stats = { builds: 0, reuses: 0, buildMs: 0 };

  constructor(
    private readonly config: ModelConfig,
    private readonly targets: readonly LoraTarget[],
  ) {}

  /** Inputs for rows in batch order (null = no adapter); undefined when no row has one. */
  inputs(rows: readonly (FoldedLora | null)[]): LoraInputs | undefined {
    if (rows.length === this.lastRows.length && rows.every((r, i) => r === this.lastRows[i])) {
      this.stats.reuses++;
      return this.last;
    }
    const t0 = performance.now();
    this.lastRows = [...rows];
    this.last = build(this.config, this.targets, rows, this.pool);
    this.stats.builds++;
    this.stats.buildMs += performance.now() - t0;
    return this.last;
  }
}

/** One row's factors for one (layer, group) in the batch layout: A [in, R], B as loraGroupDims lays it out. */
interface RowBlock {
  A: Float32Array;
  B: Float32Array;
}

// A row's blocks depend only on its (immutable) update and the batch's rank layout, so they are made
// once per row and layout and kept with the row: a rebuild (every join or leave) is then one
// contiguous copy per row and group instead of a strided copy of every factor. Only the latest
// layout is kept per (layer, group), so a row holds at most one packed copy of its factors.
const rowBlocks = new WeakMap<FoldedLora, Map<string, { layout: string; block: RowBlock | null }>>();

/** `group`: the group's targets in order, `used`: those the session has inputs for, `ranks`: each target's rank slot. */
function rowBlock(row: FoldedLora, i: number, group: readonly LoraTarget[], used: readonly LoraTarget[], ranks: number[], d: LoraGroupDims): RowBlock | null {
  let cache = rowBlocks.get(row);
  if (!cache) rowBlocks.set(row, (cache = new Map()));
  const slot = `${i}:${group.join(",")}`, layout = `${used.join(",")}:${ranks.join(",")}`;
  const hit = cache.get(slot);
  if (hit?.layout === layout) return hit.block;
  const R = ranks.reduce((a, b) => a + b, 0);
  let block: RowBlock | null = null;
  let off = 0;
  group.forEach((t, k) => {
    const f: LowRank | undefined = used.includes(t) ? row.layers[i]?.[t] : undefined;
    if (f) {
      block ??= { A: new Float32Array(d.in * R), B: new Float32Array(bLength(d, R)) };
      const r = f.rank;
      for (let n = 0; n < d.in; n++) block.A.set(f.A.subarray(n * r, (n + 1) * r), n * R + off);
      const { offset, width } = d.columns[t];
      if (d.stack) {
        // [chunks, r_each, chunk]: this target's chunks start at its column offset / chunk.
        const w = d.stack.chunk, each = ranks[k];
        for (let c = 0; c < width / w; c++) {
          const base = (offset / w + c) * each * w;
          for (let j = 0; j < r; j++) block.B.set(f.B.subarray(j * width + c * w, j * width + (c + 1) * w), base + j * w);
        }
      } else for (let j = 0; j < r; j++) block.B.set(f.B.subarray(j * width, (j + 1) * width), (off + j) * d.out + offset);
    }
    off += ranks[k];
  });
  cache.set(slot, { layout, block });
  return block;
}

/** `pool`: buffers to reuse, keyed by layer, group, factor and length (taken over and refilled). */
export function build(c: ModelConfig, targets: readonly LoraTarget[], rows: readonly (FoldedLora | null)[], pool?: Map<string, Float32Array>): LoraInputs | undefined {
  if (rows.every((r) => !r)) return undefined;
  const Bn = rows.length;
  const out: LoraInputs = [];
  const buffer = (name: string, n: number) => {
    const key = `${name}.${n}`;
    let x = pool?.get(key);
    if (!x) {
      x = new Float32Array(n);
      pool?.set(key, x);
    }
    return x;
  };
  const groups = loraGroupsOf(targets).map((g) => ({ g, members: LORA_GROUPS[g].filter((t) => targets.includes(t)), d: loraGroupDims(c, g) }));
  for (let i = 0; i < c.numLayers; i++) {
    const layer: NonNullable<LoraInputs[number]> = {};
    for (const { g, members, d } of groups) {
      let ranks = LORA_GROUPS[g].map((t) => (members.includes(t) ? Math.max(0, ...rows.map((r) => r?.layers[i]?.[t]?.rank ?? 0)) : 0));
      if (d.stack) ranks = ranks.map(() => Math.max(...ranks)); // one rank for every target
      const R = ranks.reduce((a, b) => a + b, 0);
      if (R === 0) continue;
      const a = d.in * R, b = bLength(d, R);
      const A = buffer(`${i}.${g}.A`, Bn * a);
      const B = buffer(`${i}.${g}.B`, Bn * b);
      rows.forEach((row, k) => {
        const block = row && rowBlock(row, i, LORA_GROUPS[g], members, ranks, d);
        if (block) {
          A.set(block.A, k * a);
          B.set(block.B, k * b);
        } else {
          A.fill(0, k * a, (k + 1) * a);
          B.fill(0, k * b, (k + 1) * b);
        }
      });
      layer[g] = { rank: R, A, B };
    }
    out.push(layer);
  }
  return out;
}
