// npm run data:counterfactual -- --out data/cf.jsonl --samples 40000 [--seed 1] [--scene village] [--phrase-grammar P] [--restate-facts P]
// Writes counterfactual grounding samples (see counterfactual.ts); progress with ETA on stderr,
// the last stdout line a summary JSON.
import { counterfactualSamples, writeJsonl } from "./counterfactual.ts";
import { loadWorld } from "./world.ts";

const args = { out: "data/cf.jsonl", samples: 40000, seed: 1, scene: "village", phraseGrammar: 0, restateFacts: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const [k, v] = [argv[i], argv[i + 1]];
  if (v === undefined) throw new Error(`${k} needs a value`);
  if (k === "--out") args.out = v;
  else if (k === "--scene") args.scene = v;
  else if (k === "--phrase-grammar" || k === "--restate-facts") {
    const p = Number(v);
    if (!(p >= 0 && p <= 1)) throw new Error(`${k} needs a share in [0, 1], got "${v}"`);
    args[k === "--phrase-grammar" ? "phraseGrammar" : "restateFacts"] = p;
  }
  else if (k === "--samples" || k === "--seed") {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${k} needs a whole number, got "${v}"`);
    args[k === "--samples" ? "samples" : "seed"] = n;
  } else throw new Error(`unknown option "${k}"; options: --out --samples --seed --scene --phrase-grammar --restate-facts`);
}
const t0 = Date.now();
const samples = counterfactualSamples(loadWorld(".", args.scene), args.samples, args.seed, (l) => process.stderr.write(l + "\n"), args.phraseGrammar, args.restateFacts);
writeJsonl(args.out, samples);
const byIntent: Record<string, number> = {};
for (const s of samples) byIntent[s.intent] = (byIntent[s.intent] ?? 0) + 1;
console.log(JSON.stringify({ out: args.out, samples: samples.length, by_intent: byIntent, seconds: (Date.now() - t0) / 1000 }));
