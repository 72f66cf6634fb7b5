import { contentHash, type ModelPackage } from "../model/package.ts";

// The base model an adapter was trained for, identified by content (adapter.json base_model.hash).
// ModelPackage.hash is not usable here: on Node it mixes in file mtimes, so a copied model would
// refuse its own adapters. This fingerprint depends only on what the weights hold:
//   contentHash( config shape line + for every tensor, sorted by name:
//                "name dtype [shape]\n" + 64 little-endian 4-byte words sampled evenly over its data )
// Sampling keeps it cheap (milliseconds for 135M parameters); two trainings of one architecture differ
// in every sampled word, and a fine-tune changes nearly every word too.
export const BASE_HASH_SAMPLES = 64;

export function baseModelHash(pkg: Pick<ModelPackage, "weights">): string {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const name of pkg.weights.names().sort()) {
    const e = pkg.weights.entry(name);
    parts.push(enc.encode(`${name} ${e.dtype} ${JSON.stringify(e.shape)}\n`));
    const words = e.bytes.byteLength >>> 2;
    const n = Math.min(BASE_HASH_SAMPLES, words);
    const sample = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      const at = Math.floor((i * words) / n) * 4;
      sample.set(e.bytes.subarray(at, at + 4), i * 4);
    }
    parts.push(sample);
  }
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.byteLength;
  }
  return contentHash(all);
}
