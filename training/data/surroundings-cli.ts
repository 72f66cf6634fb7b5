// npm run data:surroundings -- [--out evals/surroundings.jsonl] [--scenes evals/scenes] [--cases 60] [--variants 6] [--seed 7]
// Writes the surroundings suite (evals.ts buildSurroundingsSuite) and the scene variants its cases
// are asked in (<scenes>/surroundings-<k>.json, loadable scene files); the last stdout line is a
// summary JSON.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseScene } from "../../core/scene/load.ts";
import { buildSurroundingsSuite } from "./evals.ts";
import { anchoredIds, sceneVariant } from "./scene-variants.ts";
import { loadWorld } from "./world.ts";

const args: Record<string, string> = { out: "evals/surroundings.jsonl", scenes: "evals/scenes", cases: "60", variants: "6", seed: "7" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i].replace(/^--/, "");
  if (!(k in args) || argv[i + 1] === undefined) throw new Error(`unknown option or missing value: "${argv[i]}"; options: ${Object.keys(args).map((a) => `--${a}`).join(" ")}`);
  args[k] = argv[i + 1];
}
const whole = (k: string) => {
  const n = Number(args[k]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} needs a whole number ≥ 1, got "${args[k]}"`);
  return n;
};
const world = loadWorld(".");
const anchored = anchoredIds(world.scene, world.cards.values());
const scenePath = (k: number) => relative(".", join(args.scenes, `surroundings-${k + 1}.json`));
const { cases, scenes } = buildSurroundingsSuite(world, whole("seed"), whole("cases"), whole("variants"), scenePath, (rng) => sceneVariant(world.scene, anchored, rng));
mkdirSync(args.scenes, { recursive: true });
scenes.forEach((s, k) => {
  const text = JSON.stringify({ ...s, name: `surroundings-${k + 1}`, description: "A variant of the village: new props around the NPCs (training/data/scene-variants.ts), for the surroundings suite." }, null, 1) + "\n";
  parseScene(text, scenePath(k)); // what is written must load
  writeFileSync(scenePath(k), text);
});
writeFileSync(args.out, cases.map((c) => JSON.stringify(c)).join("\n") + "\n");
const byIntent: Record<string, number> = {};
for (const c of cases) byIntent[c.tags[0]] = (byIntent[c.tags[0]] ?? 0) + 1;
console.log(JSON.stringify({ out: args.out, cases: cases.length, scenes: scenes.map((_, k) => scenePath(k)), by_intent: byIntent }));
