import { existsSync, readFileSync } from "node:fs";
import type { DecoderSession } from "../../core/runtime/session.ts";

// Held-out perplexity with the runtime (the ONNX graph the game runs, not PyTorch), on the
// tokenized held-out split (`npm run tokenize` output: <prefix>.ids.u16 / .mask.u8 / .offsets.u32).
// Loss counts completion tokens only: position t scores token t+1 when t+1 is a completion token.
// Samples are taken at an even stride over the split so a subset still spans it.

export interface TokenSplit { ids: Uint16Array; mask: Uint8Array; offsets: Uint32Array }

export function readTokenSplit(prefix: string): TokenSplit {
  for (const ext of [".ids.u16", ".mask.u8", ".offsets.u32"]) {
    if (!existsSync(prefix + ext)) throw new Error(`${prefix}${ext}: not found (npm run tokenize -- --in ${prefix}.jsonl --out ${prefix})`);
  }
  const buf = (p: string) => { const b = readFileSync(p); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); };
  const ids = new Uint16Array(buf(prefix + ".ids.u16"));
  const mask = new Uint8Array(buf(prefix + ".mask.u8"));
  const offsets = new Uint32Array(buf(prefix + ".offsets.u32"));
  if (ids.length !== mask.length || offsets[offsets.length - 1] !== ids.length) throw new Error(`${prefix}: ids, mask and offsets disagree`);
  return { ids, mask, offsets };
}

export interface Perplexity { samples: number; tokens: number; loss: number; perplexity: number }

export async function heldoutPerplexity(session: DecoderSession, split: TokenSplit, samples: number,
  progress: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<Perplexity> {
  const n = split.offsets.length - 1;
  const take = Math.min(samples, n);
  const V = session.config.vocabSize;
  let nll = 0, count = 0;
  const t0 = performance.now();
  for (let k = 0; k < take; k++) {
    const i = Math.floor((k * n) / take);
    const a = split.offsets[i], b = split.offsets[i + 1];
    const T = b - a;
    const ids = Array.from(split.ids.subarray(a, b));
    const pos = new BigInt64Array(T).map((_, j) => BigInt(j));
    const { logits } = await session.forward({
      inputsEmbeds: session.embed(ids), batch: 1, seqLen: T, positionIds: pos,
      attentionMask: new BigInt64Array(T).fill(1n), past: null, logits: "all",
    });
    for (let t = 0; t + 1 < T; t++) {
      if (!split.mask[a + t + 1]) continue;
      const row = logits.subarray(t * V, (t + 1) * V);
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (row[v] > max) max = row[v];
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(row[v] - max);
      nll += Math.log(s) + max - row[ids[t + 1]];
      count++;
    }
    if ((k + 1) % 25 === 0 || k + 1 === take) {
      const el = (performance.now() - t0) / 1000;
      progress(`perplexity: ${k + 1}/${take} samples, ${el.toFixed(0)} s, ETA ${((el / (k + 1)) * (take - k - 1)).toFixed(0)} s`);
    }
  }
  const loss = nll / Math.max(count, 1);
  return { samples: take, tokens: count, loss: Math.round(loss * 1e4) / 1e4, perplexity: Math.round(Math.exp(loss) * 100) / 100 };
}
