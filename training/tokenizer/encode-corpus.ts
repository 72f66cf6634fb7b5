import { closeSync, createReadStream, existsSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { ByteLevelBPE } from "./bpe.ts";

// Encodes a JSONL corpus (prompt, completion) into flat binary arrays for the PyTorch trainers:
//   npm run tokenize -- --tokenizer assets/tokenizer/tokenizer.json --in data/train.jsonl --out data/train
// writes <out>.ids.u16 (uint16 LE token ids, samples back to back), <out>.mask.u8 (1 on completion
// tokens: the loss mask), <out>.offsets.u32 (n+1 sample start offsets, in tokens) and
// <out>.meta.json (counts, and per-sample npc/mood/intent columns for adapter and gate training).
// In numpy: ids = np.fromfile(p + ".ids.u16", np.uint16); off = np.fromfile(p + ".offsets.u32", np.uint32).

function parseArgs(argv: string[]) {
  const a = { tokenizer: "assets/tokenizer/tokenizer.json", input: "data/train.jsonl", out: "" };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (!v) throw new Error(`${argv[i]} needs a value`);
    if (argv[i] === "--tokenizer") a.tokenizer = v;
    else if (argv[i] === "--in") a.input = v;
    else if (argv[i] === "--out") a.out = v;
    else throw new Error(`unknown option "${argv[i]}"; options: --tokenizer --in --out`);
    i++;
  }
  if (!a.out) a.out = a.input.replace(/\.jsonl$/, "");
  for (const f of [a.tokenizer, a.input]) if (!existsSync(f)) throw new Error(`${f}: not found`);
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const bpe = new ByteLevelBPE(JSON.parse(readFileSync(args.tokenizer, "utf8")));
  if (bpe.size > 65535) throw new Error(`vocabulary of ${bpe.size} does not fit uint16`);
  const t0 = performance.now();
  const fIds = openSync(`${args.out}.ids.u16`, "w");
  const fMask = openSync(`${args.out}.mask.u8`, "w");
  const offsets: number[] = [0];
  const meta: { npc: string[]; mood: string[]; intent: string[] } = { npc: [], mood: [], intent: [] };
  let total = 0, longest = 0, over512 = 0, n = 0, last = t0;
  const rl = createInterface({ input: createReadStream(args.input, "utf8"), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const s = JSON.parse(line) as { prompt: string; completion: string; npc: string; mood: string; intent: string };
    const p = bpe.encode(s.prompt);
    const c = bpe.encode(s.completion);
    const ids = new Uint16Array(p.length + c.length);
    ids.set(p, 0);
    ids.set(c, p.length);
    const mask = new Uint8Array(ids.length);
    mask.fill(1, p.length);
    writeSync(fIds, ids);
    writeSync(fMask, mask);
    total += ids.length;
    offsets.push(total);
    longest = Math.max(longest, ids.length);
    if (ids.length > 512) over512++;
    meta.npc.push(s.npc); meta.mood.push(s.mood); meta.intent.push(s.intent);
    n++;
    if (performance.now() - last > 2000) {
      last = performance.now();
      process.stderr.write(`tokenize: ${n} samples, ${total} tokens, ${(n / ((last - t0) / 1000)).toFixed(0)} samples/s\n`);
    }
  }
  closeSync(fIds); closeSync(fMask);
  writeFileSync(`${args.out}.offsets.u32`, new Uint32Array(offsets));
  const summary = { samples: n, tokens: total, mean_tokens: Math.round(total / Math.max(n, 1)), longest, over_512: over512, vocab: bpe.size, seconds: Math.round((performance.now() - t0) / 100) / 10 };
  writeFileSync(`${args.out}.meta.json`, JSON.stringify({ ...summary, tokenizer: args.tokenizer, source: args.input, columns: meta }) + "\n");
  console.log(JSON.stringify(summary));
}

main().catch((err) => { console.error(`tokenize: ${(err as Error).message}`); process.exit(1); });
