import type { ModelConfig } from "../model/config.ts";
import { loraDims } from "../onnx/decoder-graph.ts";
import type { LoraInputs, LoraTarget } from "../session.ts";
import type { LowRank } from "./pack.ts";
import type { FoldedLora } from "./mixture.ts";

// Per-row updates → the decoder's batched lora inputs: for each (layer, target)
//   A [B, in, R], B [B, R, out], R = the largest rank of any row there.
// A row with a smaller rank (or none) is zero-padded: the extra columns of A and rows of B are 0,
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

/** `pool`: buffers to reuse, keyed by layer, target, factor and length (taken over and refilled). */
export function build(c: ModelConfig, targets: readonly LoraTarget[], rows: readonly (FoldedLora | null)[], pool?: Map<string, Float32Array>): LoraInputs | undefined {
  if (rows.every((r) => !r)) return undefined;
  const Bn = rows.length;
  const out: LoraInputs = [];
  for (let i = 0; i < c.numLayers; i++) {
    const layer: Partial<Record<LoraTarget, { rank: number; A: Float32Array; B: Float32Array }>> = {};
    for (const t of targets) {
      const fs: (LowRank | undefined)[] = rows.map((r) => r?.layers[i]?.[t]);
      const R = Math.max(0, ...fs.map((f) => f?.rank ?? 0));
      if (R === 0) continue;
      const d = loraDims(c, t);
      const buffer = (name: string, n: number) => {
        const key = `${i}.${t}.${name}.${n}`;
        let x = pool?.get(key);
        if (!x) {
          x = new Float32Array(n);
          pool?.set(key, x);
        }
        return x;
      };
      const A = buffer("A", Bn * d.in * R);
      const B = buffer("B", Bn * R * d.out);
      fs.forEach((f, b) => {
        const a0 = b * d.in * R, b0 = b * R * d.out;
        if (!f || f.rank < R) {
          // Padding (or a reused buffer): this row's block must be zero where it has no factor.
          A.fill(0, a0, a0 + d.in * R);
          B.fill(0, b0 + (f ? f.rank : 0) * d.out, b0 + R * d.out);
        }
        if (!f) return;
        if (f.rank === R) A.set(f.A, a0);
        else for (let n = 0; n < d.in; n++) A.set(f.A.subarray(n * f.rank, (n + 1) * f.rank), a0 + n * R);
        B.set(f.B, b0);
      });
      layer[t] = { rank: R, A, B };
    }
    out.push(layer);
  }
  return out;
}
