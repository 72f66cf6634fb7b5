// Near-duplicate and density filter for generated samples.
//
// Each sample text becomes a TF-IDF vector over hashed character 3- and 4-grams (2^20 buckets,
// L2-normalised). Samples are compared within a block (same NPC and intent) by cosine similarity,
// with a 64-bit SimHash as a cheap pre-filter (Hamming distance estimates the angle).
// Filtering is a streaming, DBSCAN-style leader clustering:
//   - cosine >= dupCosine to an earlier leader: a near-duplicate, dropped;
//   - cosine >= clusterCosine (the eps-neighbourhood): joins that leader's cluster, dropped when
//     the cluster already holds maxPerCluster samples (over-dense region);
//   - otherwise it starts a new cluster as its leader.

const DIMS = 1 << 20;

export interface DedupOptions {
  dupCosine: number;
  clusterCosine: number;
  maxPerCluster: number;
}

export const DEFAULT_DEDUP: DedupOptions = { dupCosine: 0.9, clusterCosine: 0.7, maxPerCluster: 48 };

interface Vec {
  idx: Int32Array;
  val: Float32Array;
  sig0: number;
  sig1: number;
}

interface Leader {
  vec: Vec;
  members: number;
}

export type Verdict = "kept" | "duplicate" | "dense";

function fnv(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

function normalise(text: string): string {
  return ` ${text.toLowerCase().replace(/\s+/g, " ").trim()} `;
}

/** Hashed n-gram counts of a text: feature index -> count. */
function ngramCounts(text: string): Map<number, number> {
  const s = normalise(text);
  const counts = new Map<number, number>();
  for (const n of [3, 4]) {
    for (let i = 0; i + n <= s.length; i++) {
      const f = (fnv(s, i, i + n) ^ n) & (DIMS - 1);
      counts.set(f, (counts.get(f) ?? 0) + 1);
    }
  }
  return counts;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function dot(a: Vec, b: Vec): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.idx.length && j < b.idx.length) {
    const x = a.idx[i];
    const y = b.idx[j];
    if (x === y) { s += a.val[i++] * b.val[j++]; }
    else if (x < y) i++;
    else j++;
  }
  return s;
}

export class NearDupFilter {
  private readonly idf: Float32Array;
  private readonly blocks = new Map<string, Leader[]>();
  readonly counts = { kept: 0, duplicate: 0, dense: 0 };
  /** Hamming distance above which two signatures are certainly below clusterCosine. */
  private readonly maxHamming: number;

  /** `idfSample`: texts to estimate document frequencies from (a pilot batch of the corpus). */
  constructor(idfSample: string[], readonly options: DedupOptions = DEFAULT_DEDUP) {
    const df = new Uint32Array(DIMS);
    for (const t of idfSample) for (const f of ngramCounts(t).keys()) df[f]++;
    const n = Math.max(1, idfSample.length);
    this.idf = new Float32Array(DIMS);
    for (let f = 0; f < DIMS; f++) this.idf[f] = Math.log((1 + n) / (1 + df[f])) + 1;
    // SimHash: P(bit differs) = angle / pi. Allow the expected distance at clusterCosine plus
    // three standard deviations, so the pre-filter rarely hides a true neighbour.
    const p = Math.acos(options.clusterCosine) / Math.PI;
    this.maxHamming = Math.ceil(64 * p + 3 * Math.sqrt(64 * p * (1 - p)));
  }

  embed(text: string): Vec {
    const counts = ngramCounts(text);
    const idx = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
    const val = new Float32Array(idx.length);
    let norm = 0;
    for (let k = 0; k < idx.length; k++) {
      const w = (1 + Math.log(counts.get(idx[k])!)) * this.idf[idx[k]];
      val[k] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    const sums = new Float32Array(64);
    for (let k = 0; k < idx.length; k++) {
      val[k] /= norm;
      const h0 = mix(idx[k] + 1);
      const h1 = mix(h0 ^ 0x9e3779b9);
      const v = val[k];
      for (let b = 0; b < 32; b++) {
        sums[b] += (h0 >>> b) & 1 ? v : -v;
        sums[32 + b] += (h1 >>> b) & 1 ? v : -v;
      }
    }
    let sig0 = 0;
    let sig1 = 0;
    for (let b = 0; b < 32; b++) {
      if (sums[b] > 0) sig0 |= 1 << b;
      if (sums[32 + b] > 0) sig1 |= 1 << b;
    }
    return { idx, val, sig0, sig1 };
  }

  cosine(a: string, b: string): number {
    return dot(this.embed(a), this.embed(b));
  }

  /** Decides whether to keep `text`; `block` groups comparable samples (e.g. "npc|intent"). */
  offer(text: string, block: string): Verdict {
    const v = this.embed(text);
    let leaders = this.blocks.get(block);
    if (!leaders) this.blocks.set(block, (leaders = []));
    let best: Leader | undefined;
    let bestCos = -1;
    for (const l of leaders) {
      const ham = popcount(l.vec.sig0 ^ v.sig0) + popcount(l.vec.sig1 ^ v.sig1);
      if (ham > this.maxHamming) continue;
      const c = dot(l.vec, v);
      if (c > bestCos) { bestCos = c; best = l; }
    }
    let verdict: Verdict;
    if (best && bestCos >= this.options.dupCosine) verdict = "duplicate";
    else if (best && bestCos >= this.options.clusterCosine) {
      verdict = best.members >= this.options.maxPerCluster ? "dense" : "kept";
      if (verdict === "kept") best.members++;
    } else {
      leaders.push({ vec: v, members: 1 });
      verdict = "kept";
    }
    this.counts[verdict]++;
    return verdict;
  }

  get clusters(): number {
    let n = 0;
    for (const l of this.blocks.values()) n += l.length;
    return n;
  }
}
