import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CharacterCard } from "../../core/character/schema.ts";
import { assemblePrompt, playerInFront } from "../../core/prompt/context.ts";
import type { Entity } from "../../core/prompt/nearby.ts";
import type { Turn } from "../../core/prompt/layout.ts";
import { parseScene } from "../../core/scene/load.ts";
import type { Scene } from "../../core/scene/schema.ts";
import { sightOfViews, type SightFact } from "../../core/vision/seen.ts";
import { approxTokens, PROMPT_BUDGET } from "../data/sample.ts";
import { loadCards } from "../eval/world.ts";
import { parseFlags } from "./flags.ts";
import { questionsFor, type PromptFor } from "./questions.ts";
import { record, type ViewRecord } from "./render.ts";
import { generateView, sceneViews } from "./scenes.ts";

// Training samples for the `skill-sight` pack: the grounding questions (questions.ts: types,
// phrasings, the NPC's voice) asked about generated scenes, with what the NPC sees written as
// prompt lines from the scene graph (core/vision/seen.ts) instead of the view's placeholders.
// No rendering: visibility is geometry (core/vision/view.ts), so 20,000 views take seconds.
//
//   npm run data:sight -- --split train --views 20000 --seed 1 --out data/sight
//   → data/sight/train.jsonl (prompt, completion, npc, mood, intent "sight_<type>"; tokenize it)
//     data/sight/train.qa.jsonl (the question records, for reading)
//   --scene scenes/village.json --scene-views 3000: also views of that scene from its NPCs' posts
//     (moved about, props shifted), asked and answered as the game asks (its nearby lines, its NPCs)
//   --eyes-share 0.3: that share of views written as the eyes see them (a vision package's prop
//     detector, core/vision/detector.ts): the scene's props left out of the nearby lines, what is
//     in view on the summary line only; so one pack reads the sight lines from either source.
//
// The train split uses the training phrasings, any other split the held-out ones
// (questions.ts); the view seeds follow the renderer's (split seed × 1 000 003 + index), so
// --seed 9001 gives the scenes of the rendered held-out split.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface SightPromptOptions {
  /** false: no sight lines (the text path). */
  sightLines?: boolean;
  /** What the NPC's eyes found in this view (a detector's props), or undefined for the scene graph's
   *  truth: given, the nearby lines leave the scene's props out, as the server does with eyes. */
  fromEyes?: (r: ViewRecord) => SightFact[] | undefined;
}

/**
 * The prompt of a question about sight as the server builds it (core/prompt/context.ts with
 * `sight`): the persona, the facts, the usual nearby lines (the player 2 m ahead, other villagers,
 * objects) with the props in view marked, and the question. `sightLines: false` leaves the marks
 * out: the text path, as the server answered before (the baseline of eval:grounding --sight scene).
 */
export function sightPromptFor(sceneOf: (r: ViewRecord) => Scene, opts: SightPromptOptions = {}): PromptFor {
  const lines = opts.sightLines ?? true;
  return (r: ViewRecord, card: CharacterCard, question: string, history: Turn[] = []) => {
    const eyes = opts.fromEyes?.(r);
    const scene = sceneOf(r);
    const pose = { position: r.npc.position, facing: r.npc.facing };
    const others: Entity[] = r.figures.map((f) => ({ id: f.id, name: f.role, tags: [f.role], position: f.position }));
    return assemblePrompt({
      card, scene, npcId: r.npc.id, pose, playerPosition: playerInFront(pose), others, say: question, history,
      ...(eyes ? { sight: eyes, sightFrom: "eyes" as const } : lines ? { sight: sightOfViews(r.props) } : {}),
    }, approxTokens, PROMPT_BUDGET).text;
  };
}

/** The scene a view record was taken in: regenerated from its seed, or its scene file. */
export function sceneOfRecord(sceneFiles: Map<string, Scene> = new Map()): (r: ViewRecord) => Scene {
  // Props stand where the record saw them (a scene view moves some about).
  const placed = (scene: Scene, r: ViewRecord): Scene => {
    const at = new Map(r.props.map((p) => [p.id, p]));
    return { ...scene, objects: scene.objects.map((o) => (at.has(o.id) ? { ...o, position: at.get(o.id)!.position, rotation: [o.rotation[0], at.get(o.id)!.yaw, o.rotation[2]] } : o)) };
  };
  return (r) => {
    if (r.source === "generated") return placed(generateView(r.seed).scene, r);
    const name = r.source.startsWith("scene:") ? r.source.slice("scene:".length) : "";
    if (!sceneFiles.has(name)) {
      const file = path.join(ROOT, "scenes", `${name}.json`);
      sceneFiles.set(name, parseScene(JSON.parse(readFileSync(file, "utf8")), file));
    }
    return placed(sceneFiles.get(name)!, r);
  };
}

/** `n` view records of a scene file (scenes/<name>.json) from its NPCs' posts, numbered from `start`. */
export function sceneRecords(sceneFile: string, n: number, seed: number, start = 0): ViewRecord[] {
  const file = path.resolve(ROOT, sceneFile);
  const scene = parseScene(JSON.parse(readFileSync(file, "utf8")), sceneFile);
  const source = `scene:${path.basename(file, ".json")}`;
  return sceneViews(scene, { extra: Math.max(0, n - scene.npcs.length), seed }).map((v, i) => record(start + i, source, v));
}

function main(): void {
  const a = parseFlags(process.argv.slice(2), ["split", "views", "seed", "per-view", "out", "eyes-share", "scene", "scene-views"]);
  const eyesShare = Number(a["eyes-share"] ?? 0);
  if (!(eyesShare >= 0 && eyesShare <= 1)) throw new Error(`--eyes-share must be between 0 and 1, got ${a["eyes-share"]}`);
  const split = a.split ?? "train";
  const views = Number(a.views ?? 20000), seed = Number(a.seed ?? 1), perView = Number(a["per-view"] ?? 3);
  for (const [k, v] of [["views", views], ["seed", seed], ["per-view", perView]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a whole number ≥ 1`);
  }
  const out = path.resolve(ROOT, a.out ?? "data/sight");
  const cards: Map<string, CharacterCard> = loadCards(ROOT);
  const t0 = performance.now();
  const records: ViewRecord[] = [];
  for (let i = 0; i < views; i++) {
    records.push(record(i, "generated", generateView(seed * 1_000_003 + i)));
    if ((i + 1) % 2000 === 0) {
      const el = (performance.now() - t0) / 1000;
      process.stderr.write(`data:sight ${split}: ${i + 1}/${views} views, ${el.toFixed(0)} s, ETA ${((el / (i + 1)) * (views - i - 1)).toFixed(0)} s\n`);
    }
  }
  // --scene scenes/village.json --scene-views N: N more views of a real scene from its NPCs' posts
  // (moved about, props shifted: scenes.ts sceneViews), so the questions are also asked where the
  // game asks them, with the scene's landmarks, villagers and lore lines around the sight lines.
  if (a.scene) {
    const n = Number(a["scene-views"] ?? 2000);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--scene-views must be a whole number ≥ 1, got ${a["scene-views"]}`);
    records.push(...sceneRecords(a.scene, n, seed * 7 + 3, records.length));
  }
  // --eyes-share: that share of views (a stable hash of the view's seed) is written as the eyes see
  // it: the scene's props left out of the nearby lines, the view's props in the sight lines only.
  const asEyes = (r: ViewRecord) => ((Math.imul(r.seed ^ 0x9e3779b9, 2654435761) >>> 0) % 10000) / 10000 < eyesShare;
  const promptFor = sightPromptFor(sceneOfRecord(), { fromEyes: (r) => (asEyes(r) ? sightOfViews(r.props) : undefined) });
  const qa = questionsFor(records, cards, { split, perView, seed, promptFor });
  mkdirSync(out, { recursive: true });
  const samples = qa.map((q) => ({ prompt: q.prompt, completion: q.completion, npc: q.npc, mood: cards.get(q.npc)!.defaultMood, intent: `sight_${q.type}` }));
  writeFileSync(path.join(out, `${split}.jsonl`), samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
  writeFileSync(path.join(out, `${split}.qa.jsonl`), qa.map((q) => JSON.stringify(q)).join("\n") + "\n");
  const by = new Map<string, number>();
  for (const q of qa) by.set(q.type, (by.get(q.type) ?? 0) + 1);
  console.log(`data:sight ${split}: ${qa.length} questions over ${records.length} views in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${path.relative(ROOT, out)}/${split}.jsonl`);
  console.log([...by.entries()].map(([t, n]) => `  ${t.padEnd(10)} ${n}`).join("\n"));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (e) {
    console.error(`data:sight: ${(e as Error).message}`);
    process.exit(1);
  }
}
