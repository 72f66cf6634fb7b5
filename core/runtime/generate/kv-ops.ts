// Batch-level edits of a KV cache (kv-cache.ts: per layer [B, kvh, capacity, hd] f32 row-major,
// columns [0, length) valid): dropping finished rows, dropping left-padding columns no row needs,
// and merging two caches whose rows joined at different times (the shorter one is left-padded with
// zeros; its attention mask hides the padding). Each is one pass of block copies: for every
// (row, head) the positions [from, length) are contiguous, so a copy is one TypedArray.set per
// (layer, row, head). Results get fresh buffers with room to grow (capacityFor), so the decode
// steps after an edit append in place.

import { allocCache, capacityFor, capacityOf, type KvCache, type KvShape } from "../kv-cache.ts";

export type { KvShape } from "../kv-cache.ts";

/** Keeps `rows` (in that order) and drops the first `trim` positions of every row. */
export function selectRows(kv: KvCache, rows: readonly number[], trim: number, s: KvShape): KvCache {
  const { numKvHeads: kvh, headDim: hd } = s;
  const P = kv.length, C = capacityOf(kv);
  if (trim < 0 || trim > P) throw new Error(`kv selectRows: trim ${trim} outside [0, ${P}]`);
  for (const r of rows) if (r < 0 || r >= kv.batch) throw new Error(`kv selectRows: row ${r} outside [0, ${kv.batch})`);
  const Pn = P - trim;
  const out = allocCache(rows.length, Pn, capacityFor(Pn), s);
  const Cn = capacityOf(out);
  for (let l = 0; l < s.numLayers; l++) {
    for (const w of ["key", "value"] as const) {
      const src = kv[w][l], dst = out[w][l];
      rows.forEach((r, j) => {
        for (let h = 0; h < kvh; h++) {
          const from = ((r * kvh + h) * C + trim) * hd;
          dst.set(src.subarray(from, from + Pn * hd), (j * kvh + h) * Cn * hd);
        }
      });
    }
  }
  return out;
}

/** Rows of `a` then rows of `b`, both right-aligned to length max(Pa, Pb) (zeros on the left). */
export function concatRows(a: KvCache, b: KvCache, s: KvShape): KvCache {
  const { numKvHeads: kvh, headDim: hd } = s;
  const P = Math.max(a.length, b.length);
  const out = allocCache(a.batch + b.batch, P, capacityFor(P), s);
  const C = capacityOf(out);
  const place = (dst: Float32Array, src: KvCache, srcData: Float32Array, rowOffset: number) => {
    const pad = P - src.length, Cs = capacityOf(src);
    for (let r = 0; r < src.batch; r++) {
      for (let h = 0; h < kvh; h++) {
        const from = (r * kvh + h) * Cs * hd;
        dst.set(srcData.subarray(from, from + src.length * hd), (((rowOffset + r) * kvh + h) * C + pad) * hd);
      }
    }
  };
  for (let l = 0; l < s.numLayers; l++) {
    for (const w of ["key", "value"] as const) {
      place(out[w][l], a, a[w][l], 0);
      place(out[w][l], b, b[w][l], a.batch);
    }
  }
  return out;
}
