import { Scheduler } from "../../core/runtime/scheduler/scheduler.ts";
import { parseFlags } from "../vision/flags.ts";
import { questionsFor } from "../vision/questions.ts";
import { sceneRecords, sceneOfRecord, sightPromptFor } from "../vision/sight-data.ts";
import { foldPacks, openModel } from "./grounding-suite.ts";
import { answerMatches } from "./grounding-score.ts";
import { loadCards } from "./world.ts";

// The grounding questions asked in a real scene (its NPCs at and near their posts, props shifted),
// with the held-out phrasings, answered greedily on the scene path with each NPC's pack and
// `skill-sight`. Prints the failures (first 10), then one JSON line: accuracy and by type.
//
//   npx tsx training/eval/sight-scene-probe.ts [--scene scenes/village.json] [--views 250] [--seed 4242] [--adapters adapters]

const a = parseFlags(process.argv.slice(2), ["scene", "views", "seed", "adapters", "model"]);
const cards = loadCards(process.cwd());
const records = sceneRecords(a.scene ?? "scenes/village.json", Number(a.views ?? 250), Number(a.seed ?? 4242));
const qa = questionsFor(records, cards, { split: "heldout", perView: 3, seed: 77, promptFor: sightPromptFor(sceneOfRecord()) });
const { model, bank } = await openModel(a.model ?? "assets/model", a.adapters ?? "adapters");
const sched = new Scheduler(model, { maxBatch: 16, maxQueue: 10000 });
const folded = new Map<string, ReturnType<typeof foldPacks>>();
const by = new Map<string, [number, number]>();
const fails: string[] = [];
let done = 0;
const t0 = performance.now();
await Promise.all(qa.map(async (q) => {
  if (!folded.has(q.npc)) folded.set(q.npc, foldPacks(bank, [q.npc, "skill-sight"]));
  const r = await sched.submit({ prompt: q.prompt, options: { maxNewTokens: 40, doSample: false }, lora: await folded.get(q.npc)! }).result;
  const good = answerMatches(q.type, q.key, r.text);
  const b = by.get(q.type) ?? [0, 0];
  b[0] += good ? 1 : 0;
  b[1]++;
  by.set(q.type, b);
  if (!good) fails.push(`FAIL ${q.type} ${JSON.stringify(q.key)} | ${q.question} | ${r.text}`);
  if (++done % 100 === 0) {
    const el = (performance.now() - t0) / 1000;
    process.stderr.write(`sight-scene-probe: ${done}/${qa.length}, ${el.toFixed(0)} s, ETA ${((el / done) * (qa.length - done)).toFixed(0)} s\n`);
  }
}));
await sched.close();
console.log(fails.slice(0, 10).join("\n"));
const right = [...by.values()].reduce((s, v) => s + v[0], 0);
console.log(JSON.stringify({ scene: a.scene ?? "scenes/village.json", questions: qa.length, accuracy: +(right / qa.length).toFixed(4), by_type: Object.fromEntries([...by].map(([k, v]) => [k, +(v[0] / v[1]).toFixed(3)])) }));
process.exit(0);
