import { LORA_TARGETS } from "../session.ts";
import type { AdapterLayers, AdapterPack, LowRank } from "./pack.ts";
import { factorArray } from "./shared.ts";

// A mixture of K adapters folded into one low-rank update per (layer, target):
//   Σ_k w_k · (x·A_k)·B_k  =  (x·[A_1 … A_K]) · [w_1·B_1; …; w_K·B_K]
// A's are concatenated along the rank axis ([in, Σr_k]), B's stacked along it with each block
// scaled by its weight (the PEFT scaling is already in B). So a mixture costs what one adapter of
// rank Σr_k costs, and the decoder graph needs no mixture logic at all.

export interface MixtureTerm {
  pack: AdapterPack;
  weight: number;
}

/** What a generation row carries: its folded update, and the weights that made it (returned to the caller). */
export interface FoldedLora {
  layers: AdapterLayers;
  /** Largest rank of any (layer, target) after folding. */
  maxRank: number;
  /** adapter id → weight, plus version, for results and logs. */
  weights: Record<string, number>;
  versions: Record<string, string>;
}

export function foldMixture(terms: MixtureTerm[]): FoldedLora {
  for (const t of terms) {
    if (!Number.isFinite(t.weight)) throw new Error(`foldMixture: weight of adapter "${t.pack.id}" is ${t.weight}; weights must be finite numbers`);
  }
  const live = terms.filter((t) => t.weight !== 0);
  const numLayers = Math.max(0, ...live.map((t) => t.pack.layers.length));
  const layers: AdapterLayers = Array.from({ length: numLayers }, () => ({}));
  let maxRank = 0;
  for (let i = 0; i < numLayers; i++) {
    for (const target of LORA_TARGETS) {
      const parts = live.map((t) => ({ f: t.pack.layers[i]?.[target], w: t.weight })).filter((p): p is { f: LowRank; w: number } => !!p.f);
      if (parts.length === 0) continue;
      let folded: LowRank;
      if (parts.length === 1 && parts[0].w === 1) {
        folded = parts[0].f; // shared, read-only: no copy
      } else {
        const R = parts.reduce((s, p) => s + p.f.rank, 0);
        const dIn = parts[0].f.A.length / parts[0].f.rank;
        const dOut = parts[0].f.B.length / parts[0].f.rank;
        const A = factorArray(dIn * R);
        const B = factorArray(R * dOut);
        let off = 0;
        for (const { f, w } of parts) {
          const r = f.rank;
          for (let n = 0; n < dIn; n++) A.set(f.A.subarray(n * r, (n + 1) * r), n * R + off);
          for (let j = 0; j < r * dOut; j++) B[off * dOut + j] = w * f.B[j];
          off += r;
        }
        folded = { rank: R, A, B };
      }
      layers[i][target] = folded;
      maxRank = Math.max(maxRank, folded.rank);
    }
  }
  const weights: Record<string, number> = {};
  const versions: Record<string, string> = {};
  for (const t of terms) {
    weights[t.pack.id] = t.weight;
    versions[t.pack.id] = t.pack.meta.version;
  }
  return { layers, maxRank, weights, versions };
}
