import type { VisionManifest, VisionPackage } from "./manifest.ts";

// The projector: features [grid², D] → visual tokens [tokens, H] in the language model's
// embedding space. Each token merges a 2×2 block of cells (top-left, top-right, bottom-left,
// bottom-right, each D wide), then Linear(4D, H) → SiLU → Linear(H, H) + a learned embedding per
// grid position. Same math as training/vision/model.py Projector. Small enough (≈0.2 MFLOP per
// view) to run in plain TypeScript on the server's main thread.

/** Why `features` cannot be used, or null when they can: length, finiteness, range. */
export function checkFeatures(features: Float32Array, m: VisionManifest): string | null {
  const want = m.grid * m.grid * m.feature_dim;
  if (features.length !== want) return `features: expected ${want} values (${m.grid}×${m.grid}×${m.feature_dim}), got ${features.length}`;
  for (let i = 0; i < features.length; i++) {
    const v = features[i];
    if (!Number.isFinite(v)) return `features: value ${i} is not finite (${v})`;
    if (Math.abs(v) > m.feature_limit) return `features: value ${i} = ${v} is outside ±${m.feature_limit}`;
  }
  return null;
}

export class Projector {
  readonly manifest: VisionManifest;
  private readonly w1: Float32Array; // [H, 4D]
  private readonly b1: Float32Array;
  private readonly w2: Float32Array; // [H, H]
  private readonly b2: Float32Array;
  private readonly pos: Float32Array; // [tokens, H]

  constructor(pkg: VisionPackage) {
    this.manifest = pkg.manifest;
    const w = pkg.projectorWeights;
    this.w1 = w.get("merge.weight").data;
    this.b1 = w.get("merge.bias").data;
    this.w2 = w.get("out.weight").data;
    this.b2 = w.get("out.bias").data;
    this.pos = w.get("pos").data;
  }

  /** features [grid², D] (checked with checkFeatures first) → tokens [tokens, H]. */
  project(features: Float32Array): Float32Array {
    const { grid: G, feature_dim: D, hidden: H, tokens: T } = this.manifest;
    const problem = checkFeatures(features, this.manifest);
    if (problem) throw new RangeError(problem);
    const half = G / 2, K = 4 * D;
    const merged = new Float32Array(K);
    const hid = new Float32Array(H);
    const out = new Float32Array(T * H);
    for (let t = 0; t < T; t++) {
      const ty = Math.floor(t / half), tx = t % half;
      for (let q = 0; q < 4; q++) {
        const cell = (2 * ty + (q >> 1)) * G + 2 * tx + (q & 1);
        merged.set(features.subarray(cell * D, (cell + 1) * D), q * D);
      }
      for (let h = 0; h < H; h++) {
        let s = this.b1[h];
        const row = h * K;
        for (let k = 0; k < K; k++) s += this.w1[row + k] * merged[k];
        hid[h] = s / (1 + Math.exp(-s));
      }
      for (let h = 0; h < H; h++) {
        let s = this.b2[h] + this.pos[t * H + h];
        const row = h * H;
        for (let k = 0; k < H; k++) s += this.w2[row + k] * hid[k];
        out[t * H + h] = s;
      }
    }
    return out;
  }
}
