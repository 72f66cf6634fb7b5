// npm run data:counterfactual -- --out data/cf.jsonl --samples 40000 [--seed 1] [--scene village] [--phrase-grammar P] [--restate-facts P]
// Writes counterfactual grounding samples (see counterfactual.ts); progress with ETA on stderr,
// the last stdout line a summary JSON.
import { counterfactualSamples, writeJsonl } from "./counterfactual.ts";
import { parsePairs } from "./cli-pairs.ts";
import { loadWorld } from "./world.ts";

const args = parsePairs(process.argv.slice(2), { out: "data/cf.jsonl", samples: 40000, seed: 1, scene: "village", phraseGrammar: 0, restateFacts: 0 }, ["phraseGrammar", "restateFacts"]);
const t0 = Date.now();
const samples = counterfactualSamples(loadWorld(".", args.scene), args.samples, args.seed, (l) => process.stderr.write(l + "\n"), args.phraseGrammar, args.restateFacts);
writeJsonl(args.out, samples);
const byIntent: Record<string, number> = {};
for (const s of samples) byIntent[s.intent] = (byIntent[s.intent] ?? 0) + 1;
console.log(JSON.stringify({ out: args.out, samples: samples.length, by_intent: byIntent, seconds: (Date.now() - t0) / 1000 }));
