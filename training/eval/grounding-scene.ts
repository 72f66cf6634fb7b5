import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { FoldedLora } from "../../core/runtime/lora/mixture.ts";
import { Scheduler } from "../../core/runtime/scheduler/scheduler.ts";
import { SIGHT_SKILL } from "../../core/vision/seen.ts";
import { answersFromSight } from "../../core/vision/sight.ts";
import type { ViewRecord } from "../vision/render.ts";
import { sceneOfRecord, sightPromptFor } from "../vision/sight-data.ts";
import { loadCards } from "./world.ts";
import type { QaRecord } from "./grounding.ts";
import { groundingHtml } from "./grounding-html.ts";
import { groundingFigures } from "./grounding-summary.ts";
import { foldPacks, openModel } from "./grounding-suite.ts";
import { retryFigures, voicedReply } from "./voiced.ts";

// eval:grounding --sight scene: the same held-out questions answered the way the server answers
// lines when it does not use the eyes: a line about the props in sight (answersFromSight) with the
// props in the NPC's view marked among its nearby lines (core/vision/seen.ts), the persona pack and
// the skill-sight pack; any other line ("what do you see?") on the text path. "Blind" is every line
// on the text path (no marks, persona pack only), as the server answered before. This measures reading the lines, not seeing: the
// lines are the view's truth (core/vision/view.ts), as the server computes them from its scene.

const log = (l: string) => process.stderr.write(l + "\n");

export async function runSceneSight(a: { model: string; adapters: string; batch: number; split: string; html: string; out: string; temperature: number; sightRetries: number }, qa: QaRecord[], views: ViewRecord[]) {
  const cards = loadCards(process.cwd());
  const sceneOf = sceneOfRecord();
  const withSight = sightPromptFor(sceneOf);
  const noSight = sightPromptFor(sceneOf, { sightLines: false });
  const { model, bank } = await openModel(a.model, a.adapters);
  const folded = new Map<string, FoldedLora | null>();
  const mixtureOf = async (npc: string, skill: boolean) => {
    const key = `${npc}|${skill}`;
    if (!folded.has(key)) folded.set(key, await foldPacks(bank, skill ? [npc, SIGHT_SKILL] : [npc]));
    return folded.get(key)!;
  };
  const run = async (label: string, promptOf: (q: QaRecord) => string, skillFor: (q: QaRecord) => boolean) => {
    const sched = new Scheduler(model, { maxBatch: a.batch, maxQueue: qa.length * (1 + a.sightRetries) + 1 }); // room for every retry
    const t0 = performance.now();
    let done = 0, lastLog = t0;
    const voiced = await Promise.all(qa.map(async (q, i) => {
      const prompt = promptOf(q);
      const r = await voicedReply(sched, { prompt, lora: await mixtureOf(q.npc, skillFor(q)) }, { prompt, say: q.question, i }, a);
      done++;
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        const el = (lastLog - t0) / 1000;
        log(`grounding (scene) ${label}: ${done}/${qa.length} questions, ${el.toFixed(0)} s, ETA ${((el / done) * (qa.length - done)).toFixed(0)} s`);
      }
      return r;
    }));
    await sched.close();
    return voiced;
  };
  const card = (q: QaRecord) => {
    const c = cards.get(q.npc);
    if (!c) throw new Error(`question about view ${q.view}: no character card for "${q.npc}"`);
    return c;
  };
  // As the server routes: a line about the props in sight gets the marks and the sight skill,
  // any other takes the text path. Blind: every line on the text path (the server before).
  const seeingVoiced = await run("as the server", (q) => (answersFromSight(q.question) ? withSight : noSight)(views[q.view], card(q), q.question), (q) => answersFromSight(q.question));
  const seeing = seeingVoiced.map((v) => v.text);
  const blind = (await run("text path", (q) => noSight(views[q.view], card(q), q.question), () => false)).map((v) => v.text);
  await model.session.release?.();
  const visible = views.map((v) => v.props.filter((p) => p.visible).map((p) => `${p.colour} ${p.kind}`));
  const result = {
    path: "scene", questions: qa.length, views: views.length, split: a.split,
    ...groundingFigures(qa, seeing, blind, visible),
    sight_check: { retries: a.sightRetries, ...retryFigures(seeingVoiced) },
    adapter: SIGHT_SKILL,
  };
  const html = a.html || "training/results/vision/grounding_scene.html";
  const out = a.out || "training/results/vision/grounding_scene.json";
  for (const f of [html, out]) mkdirSync(dirname(f), { recursive: true });
  writeFileSync(html, groundingHtml(result, qa, seeing, blind));
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  log(`grounding (scene): wrote ${html} and ${out}`);
  console.log(JSON.stringify(result));
}
