// Batch-level edits of a KV cache (session.ts KvCache: per layer [B, kvh, P, hd] f32 row-major):
// dropping finished rows, dropping left-padding columns no row needs, and merging two caches whose
// rows joined at different times (the shorter one is left-padded with zeros; its attention mask
// hides the padding). Each is one pass of block copies: for every (row, head) the positions
// [from, P) are contiguous, so a copy is one TypedArray.set per (layer, row, head).

import type { KvCache } from "../session.ts";

export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

/** Keeps `rows` (in that order) and drops the first `trim` positions of every row. */
export function selectRows(kv: KvCache, rows: readonly number[], trim: number, s: KvShape): KvCache {
  const { numKvHeads: kvh, headDim: hd } = s;
  const P = kv.length;
  if (trim < 0 || trim > P) throw new Error(`kv selectRows: trim ${trim} outside [0, ${P}]`);
  for (const r of rows) if (r < 0 || r >= kv.batch) throw new Error(`kv selectRows: row ${r} outside [0, ${kv.batch})`);
  const Pn = P - trim;
  const out: KvCache = { batch: rows.length, length: Pn, key: [], value: [] };
  const copy = (src: Float32Array): Float32Array => {
    const dst = new Float32Array(rows.length * kvh * Pn * hd);
    rows.forEach((r, j) => {
      for (let h = 0; h < kvh; h++) {
        const from = ((r * kvh + h) * P + trim) * hd;
        dst.set(src.subarray(from, from + Pn * hd), (j * kvh + h) * Pn * hd);
      }
    });
    return dst;
  };
  for (let l = 0; l < s.numLayers; l++) {
    out.key.push(copy(kv.key[l]));
    out.value.push(copy(kv.value[l]));
  }
  return out;
}

/** Rows of `a` then rows of `b`, both right-aligned to length max(Pa, Pb) (zeros on the left). */
export function concatRows(a: KvCache, b: KvCache, s: KvShape): KvCache {
  const { numKvHeads: kvh, headDim: hd } = s;
  const P = Math.max(a.length, b.length);
  const B = a.batch + b.batch;
  const out: KvCache = { batch: B, length: P, key: [], value: [] };
  const place = (dst: Float32Array, src: Float32Array, srcB: number, srcP: number, rowOffset: number) => {
    const pad = P - srcP;
    for (let r = 0; r < srcB; r++) {
      for (let h = 0; h < kvh; h++) {
        const from = (r * kvh + h) * srcP * hd;
        dst.set(src.subarray(from, from + srcP * hd), (((rowOffset + r) * kvh + h) * P + pad) * hd);
      }
    }
  };
  for (let l = 0; l < s.numLayers; l++) {
    for (const which of ["key", "value"] as const) {
      const dst = new Float32Array(B * kvh * P * hd);
      place(dst, a[which][l], a.batch, a.length, 0);
      place(dst, b[which][l], b.batch, b.length, a.batch);
      out[which].push(dst);
    }
  }
  return out;
}
