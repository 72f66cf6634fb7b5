import { createReadStream, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { countPieces, tokenizerConfig, trainBPE } from "./train.ts";
import { ByteLevelBPE } from "./bpe.ts";

// Tokenizer trainer CLI:
//   npm run tokenizer -- --corpus data/train.jsonl --out assets/tokenizer [--vocab 4096] [--max-samples 60000]
// Reads prompt + completion of each JSONL sample, trains the byte-level BPE, writes
// tokenizer.json and tokenizer_config.json. Progress with ETA on stderr; last stdout line JSON.

interface Args { corpus: string; out: string; vocab: number; maxSamples: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { corpus: "data/train.jsonl", out: "assets/tokenizer", vocab: 4096, maxSamples: 60000 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    const num = () => { const n = Number(v); if (!Number.isInteger(n) || n <= 0) throw new Error(`${argv[i]} needs a positive integer, got ${v}`); i++; return n; };
    switch (argv[i]) {
      case "--corpus": if (!v) throw new Error("--corpus needs a JSONL file"); a.corpus = v; i++; break;
      case "--out": if (!v) throw new Error("--out needs a folder"); a.out = v; i++; break;
      case "--vocab": a.vocab = num(); break;
      case "--max-samples": a.maxSamples = num(); break;
      default: throw new Error(`unknown option "${argv[i]}"; options: --corpus --out --vocab --max-samples`);
    }
  }
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.corpus)) throw new Error(`${args.corpus}: corpus not found (make one with: npm run data -- --out data/ --samples 200000 --seed 1)`);
  const t0 = performance.now();
  const pieces = new Map<string, number>();
  const held: string[] = [];
  let n = 0;
  let chars = 0;
  const rl = createInterface({ input: createReadStream(args.corpus, "utf8"), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let s: { prompt?: unknown; completion?: unknown };
    try { s = JSON.parse(line); } catch { throw new Error(`${args.corpus}:${n + 1}: not valid JSON`); }
    if (typeof s.prompt !== "string" || typeof s.completion !== "string") throw new Error(`${args.corpus}:${n + 1}: needs string "prompt" and "completion"`);
    const text = s.prompt + s.completion;
    // Every 50th sample is kept aside to measure compression on text the trainer did not count.
    if (n % 50 === 49) held.push(text); else { countPieces(text, pieces); chars += text.length; }
    if (++n >= args.maxSamples) break;
  }
  const tCount = performance.now();
  process.stderr.write(`tokenizer: ${n} samples, ${chars} chars, ${pieces.size} distinct pre-tokens (${((tCount - t0) / 1000).toFixed(1)} s)\n`);
  const json = trainBPE(pieces, {
    vocabSize: args.vocab,
    onProgress: (m, target) => {
      const el = (performance.now() - tCount) / 1000;
      process.stderr.write(`tokenizer: ${m}/${target} merges, ${el.toFixed(1)} s, ETA ${((el / m) * (target - m)).toFixed(0)} s\n`);
    },
  });
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, "tokenizer.json"), JSON.stringify(json, null, 1) + "\n");
  writeFileSync(join(args.out, "tokenizer_config.json"), JSON.stringify(tokenizerConfig(), null, 2) + "\n");
  const bpe = new ByteLevelBPE(json);
  const heldTokens = held.reduce((k, t) => k + bpe.encode(t).length, 0);
  const heldChars = held.reduce((k, t) => k + t.length, 0);
  const summary = {
    vocab: bpe.size, merges: json.model.merges.length, samples: n, chars, distinct_pretokens: pieces.size,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    heldout_chars_per_token: Math.round((heldChars / Math.max(heldTokens, 1)) * 100) / 100,
    heldout_mean_tokens_per_sample: Math.round(heldTokens / Math.max(held.length, 1)),
    out: args.out,
  };
  console.log(JSON.stringify(summary));
}

main().catch((err) => { console.error(`tokenizer: ${(err as Error).message}`); process.exit(1); });
