// The KV cache's memory: per layer one key and one value buffer [batch, kvh, capacity, hd] f32
// row-major, of which columns [0, length) hold data. A decode step writes its new column in place
// (column `length`) instead of copying the whole cache through the graph and back (which cost 32–57 %
// of kernel time at 128–512 cached positions and 6× the run time at context 300, batch 16). Buffers
// grow by CAPACITY_CHUNK columns when full; the graph attends over all `capacity` columns and the
// session masks the unused ones.
//
// Caches are values to their users: forward() never changes what an existing KvCache describes.
// Appending in place is safe because a cache of length L only reads columns < L; the one hazard is
// two forwards from the same cache (a branch), which would both write column L. So every buffer set
// remembers how many columns have been written (`filled`); a forward from a cache whose length is
// below that copies first (copy on write).

/** Per-layer key/value cache; key[l], value[l] are [batch, kvh, capacity, hd] f32, columns
 *  [0, length) valid. `capacity` absent means capacity = length (a plain dense cache). */
export interface KvCache {
  batch: number;
  length: number;
  capacity?: number;
  key: Float32Array[];
  value: Float32Array[];
}

export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

/** Columns added when a cache has to grow; a prefill allocates its length rounded up past the next multiple. */
export const CAPACITY_CHUNK = 64;

// key[0] buffer of a buffer set → columns written so far (shared by every KvCache viewing that set).
const filled = new WeakMap<Float32Array, number>();

export const capacityOf = (kv: KvCache): number => kv.capacity ?? kv.length;

/** Room for `length` columns plus at least one more (the next decode step), rounded to the chunk. */
export const capacityFor = (length: number): number => (Math.floor(length / CAPACITY_CHUNK) + 1) * CAPACITY_CHUNK;

/** Zeroed buffers for `batch` rows and `capacity` columns; `length` columns count as written. */
export function allocCache(batch: number, length: number, capacity: number, s: KvShape): KvCache {
  if (capacity < length) throw new Error(`kv allocCache: capacity ${capacity} below length ${length}`);
  const n = batch * s.numKvHeads * capacity * s.headDim;
  const kv: KvCache = { batch, length, capacity, key: [], value: [] };
  for (let l = 0; l < s.numLayers; l++) {
    kv.key.push(new Float32Array(n));
    kv.value.push(new Float32Array(n));
  }
  if (kv.key[0]) filled.set(kv.key[0], length);
  return kv;
}

/** True when `T` columns can be written after kv.length without disturbing any other cache. */
export function canAppendInPlace(kv: KvCache, T: number): boolean {
  if (kv.length + T > capacityOf(kv) || !kv.key[0]) return false;
  // Unknown buffers (made by a caller) are never written: we cannot know who else reads them.
  return filled.get(kv.key[0]) === kv.length;
}

/** Copies kv's valid columns into fresh buffers with `capacity` columns (same rows). */
export function regrow(kv: KvCache, capacity: number, s: KvShape): KvCache {
  const { numKvHeads: kvh, headDim: hd } = s;
  const C0 = capacityOf(kv), P = kv.length;
  const out = allocCache(kv.batch, P, capacity, s);
  for (let l = 0; l < s.numLayers; l++) {
    for (const w of ["key", "value"] as const) {
      const src = kv[w][l], dst = out[w][l];
      for (let bh = 0; bh < kv.batch * kvh; bh++) dst.set(src.subarray(bh * C0 * hd, (bh * C0 + P) * hd), bh * capacity * hd);
    }
  }
  return out;
}

/** Writes new columns ([batch, kvh, T, hd] per layer) at kv.length; returns the longer cache (same buffers).
 *  The caller has checked canAppendInPlace (or just allocated the buffers). */
export function appendColumns(kv: KvCache, newKey: Float32Array[], newValue: Float32Array[], T: number, s: KvShape): KvCache {
  const { numKvHeads: kvh, headDim: hd } = s;
  const C = capacityOf(kv), P = kv.length;
  if (P + T > C) throw new Error(`kv appendColumns: ${P} + ${T} columns exceed capacity ${C}`);
  for (let l = 0; l < s.numLayers; l++) {
    for (const [dstAll, srcAll] of [[kv.key, newKey], [kv.value, newValue]] as const) {
      const dst = dstAll[l], src = srcAll[l];
      for (let bh = 0; bh < kv.batch * kvh; bh++) dst.set(src.subarray(bh * T * hd, (bh + 1) * T * hd), (bh * C + P) * hd);
    }
  }
  if (kv.key[0]) filled.set(kv.key[0], P + T);
  return { batch: kv.batch, length: P + T, capacity: C, key: kv.key, value: kv.value };
}
