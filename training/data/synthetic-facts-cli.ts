// npm run data:synthetic-facts -- --out data/synthetic-facts.jsonl --samples 10000 [--seed 1] [--scene village]
// Writes training samples about made-up facts (synthetic-facts.ts); progress with ETA on stderr,
// the last stdout line a summary JSON.
import { writeJsonl } from "./counterfactual.ts";
import { syntheticFactSamples } from "./synthetic-facts.ts";
import { parsePairs } from "./cli-pairs.ts";
import { loadWorld } from "./world.ts";

const args = parsePairs(process.argv.slice(2), { out: "data/synthetic-facts.jsonl", samples: 10000, seed: 1, scene: "village" });
const t0 = Date.now();
const samples = syntheticFactSamples(loadWorld(".", args.scene), args.samples, args.seed, (l) => process.stderr.write(l + "\n"));
writeJsonl(args.out, samples);
const byTemplate: Record<string, number> = {};
for (const s of samples) byTemplate[s.template] = (byTemplate[s.template] ?? 0) + 1;
console.log(JSON.stringify({ out: args.out, samples: samples.length, by_template: byTemplate, seconds: (Date.now() - t0) / 1000 }));
