// npm run data:synthetic-facts -- --out data/synthetic-facts.jsonl --samples 10000 [--seed 1] [--scene village]
// Writes training samples about made-up facts (synthetic-facts.ts); progress with ETA on stderr,
// the last stdout line a summary JSON.
import { writeJsonl } from "./counterfactual.ts";
import { syntheticFactSamples } from "./synthetic-facts.ts";
import { loadWorld } from "./world.ts";

const args = { out: "data/synthetic-facts.jsonl", samples: 10000, seed: 1, scene: "village" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const [k, v] = [argv[i], argv[i + 1]];
  if (v === undefined) throw new Error(`${k} needs a value`);
  if (k === "--out") args.out = v;
  else if (k === "--scene") args.scene = v;
  else if (k === "--samples" || k === "--seed") {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${k} needs a whole number, got "${v}"`);
    args[k === "--samples" ? "samples" : "seed"] = n;
  } else throw new Error(`unknown option "${k}"; options: --out --samples --seed --scene`);
}
const t0 = Date.now();
const samples = syntheticFactSamples(loadWorld(".", args.scene), args.samples, args.seed, (l) => process.stderr.write(l + "\n"));
writeJsonl(args.out, samples);
const byTemplate: Record<string, number> = {};
for (const s of samples) byTemplate[s.template] = (byTemplate[s.template] ?? 0) + 1;
console.log(JSON.stringify({ out: args.out, samples: samples.length, by_template: byTemplate, seconds: (Date.now() - t0) / 1000 }));
