import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { caseMoment, type EvalCase } from "../../core/eval/case.ts";
import { applyChecks } from "../../core/eval/checks.ts";
import { scoreResults } from "../../core/eval/score.ts";
import { assemblePrompt, playerInFront } from "../../core/prompt/context.ts";
import { parseReply } from "../../core/prompt/reply.ts";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import { LanguageModel } from "../../core/runtime/index.ts";
import { AdapterBank } from "../../core/runtime/lora/bank.ts";
import { baseModelHash } from "../../core/runtime/lora/base-hash.ts";
import { foldMixture, type FoldedLora, type MixtureTerm } from "../../core/runtime/lora/mixture.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../../core/runtime/model/package.ts";
import { Scheduler } from "../../core/runtime/scheduler/scheduler.ts";
import { DecoderSession } from "../../core/runtime/session.ts";
import type { Scene } from "../../core/scene/schema.ts";
import { rgbToPixels, VisionEncoder } from "../../core/vision/encoder.ts";
import { loadVisionPackage } from "../../core/vision/manifest.ts";
import { Projector } from "../../core/vision/projector.ts";
import { personSolid, SIGHT_SKILL, sightFacts } from "../../core/vision/seen.ts";
import { answersFromSight, asksAboutSight } from "../../core/vision/sight.ts";
import { nodeBankFiles } from "../../server/adapters/files.ts";
import { readSuite } from "./run-suite.ts";
import { voicedReply } from "./voiced.ts";
import { loadCards, loadScene } from "./world.ts";

// eval:grounding --suite <cases.jsonl>: evaluation cases in the format of `npm run eval`, where
// `scene` may be a scene file path; each case's NPC sees its scene from where it stands (rendered
// by training/vision/render.ts with the client's own scene code in headless Chromium), and the
// case is asked with that view, the NPC's persona pack and the vision skill. With --no-view the same
// cases go through the text path (no view, persona pack only), for comparison. Prints a line per
// failed case and, last, {"cases", "passed", "score", "by_tag"}.

const log = (l: string) => process.stderr.write(l + "\n");

/** Renders the NPC's own view of `scenePath`: 64×64 RGB bytes. */
function renderNpcView(scenePath: string, npc: string): Uint8Array {
  const out = mkdtempSync(join(tmpdir(), "kith-suite-view-"));
  try {
    execFileSync("npx", ["tsx", "training/vision/render.ts", "--split", "v", "--scene", scenePath, "--npc", npc, "--extra", "0", "--seed", "1", "--out", out], { stdio: ["ignore", "ignore", "inherit"] });
    return new Uint8Array(readFileSync(join(out, "v", "images.u8")).subarray(0, 64 * 64 * 3));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The language model (graph cache in .cache/graphs) and the adapter bank over `adapters`. */
export async function openModel(modelDir: string, adapters: string) {
  const pkg = await loadModelPackage(modelDir, nodePackageFiles);
  const session = await DecoderSession.create(pkg, nodeBackend(), { cacheDir: ".cache/graphs" });
  const model = LanguageModel.fromSession(session, pkg);
  const bank = new AdapterBank({ root: adapters, files: nodeBankFiles, base: { config: pkg.config, hash: baseModelHash(pkg), name: modelDir } });
  return { session, model, bank };
}

/** The packs `ids` at weight 1, folded (a pack the bank cannot serve is left out, logged). */
export async function foldPacks(bank: AdapterBank, ids: string[]): Promise<FoldedLora | null> {
  const terms: MixtureTerm[] = [];
  for (const id of ids) {
    try { terms.push({ pack: await bank.get(id), weight: 1 }); } catch (e) { log(`grounding: adapter ${id} left out: ${(e as Error).message}`); }
  }
  return terms.length ? foldMixture(terms) : null;
}

export async function runGroundedSuite(a: { suite: string; vision: string; model: string; adapters: string; limit: number; batch: number; noView: boolean; alwaysView: boolean; sight?: string; sightRetries?: number }) {
  const byScene = a.sight === "scene";
  let cases: EvalCase[] = readSuite(a.suite);
  if (a.limit) cases = cases.slice(0, a.limit);
  const root = process.cwd();
  const cards = loadCards(root);
  const vpkg = await loadVisionPackage(a.vision, nodePackageFiles);
  const enc = await VisionEncoder.create(vpkg, nodeBackend({ threads: 1 }));
  const projector = new Projector(vpkg);
  const scenes = new Map<string, Scene>();
  const views = new Map<string, Float32Array>();
  // As the game: the view only for lines about what is in sight (--always-view: every line).
  const sees = (c: EvalCase) => !a.noView && (a.alwaysView || asksAboutSight(c.say));
  // --sight scene: the lines the server answers from the scene graph (answersFromSight).
  const sightLine = (c: EvalCase) => !a.noView && (a.alwaysView || answersFromSight(c.say));
  for (const c of cases) {
    const key = `${c.scene}\u0000${c.npc}`;
    if (!scenes.has(c.scene)) scenes.set(c.scene, loadScene(c.scene, root));
    if (byScene || views.has(key) || !sees(c)) continue;
    const path = /[\\/]|\.json$/.test(c.scene) ? c.scene : join("scenes", `${c.scene}.json`);
    log(`grounding suite: rendering ${c.npc}'s view of ${path}`);
    const rgb = renderNpcView(path, c.npc);
    views.set(key, projector.project(await enc.encode(rgbToPixels(rgb), 1)));
  }
  await enc.release();

  const { session, model, bank } = await openModel(a.model, a.adapters);
  const visionAdapter = vpkg.manifest.adapter ?? "skill-vision";
  const count = (t: string) => model.tokenizer.encode(t, { addSpecialTokens: false }).length;
  const sched = new Scheduler(model, { maxBatch: a.batch, maxQueue: cases.length * (1 + (a.sightRetries ?? 4)) + 1 });
  const results = await Promise.all(cases.map(async (c, i) => {
    const seeing = sees(c);
    const scene = scenes.get(c.scene)!;
    const base = caseMoment(c, scene, cards);
    // --sight scene: a line about sight gets what is in view from the scene graph and the sight skill, as the server's default does.
    const people = [...(base.others ?? []), { id: "player", position: base.playerPosition ?? playerInFront(base.pose) }].map((e) => personSolid(e.id, e.position));
    const moment = byScene
      ? { ...base, sight: sightLine(c) ? sightFacts(scene.objects, base.pose, people) : undefined }
      : { ...base, view: seeing ? vpkg.manifest.tokens : undefined };
    const prompt = assemblePrompt(moment, count).text;
    const persona = moment.card.adapters?.persona ?? moment.card.id;
    const skill = byScene ? (sightLine(c) ? SIGHT_SKILL : null) : seeing ? visionAdapter : null;
    const lora = await foldPacks(bank, skill ? [persona, skill] : [persona]);
    const image = seeing && !byScene ? views.get(`${c.scene}\u0000${c.npc}`) : undefined;
    const r = await voicedReply(sched, { prompt, lora, image }, { prompt, say: c.say, i }, { temperature: 0, sightRetries: a.sightRetries ?? 4, maxNewTokens: 48 });
    return { id: c.id, tags: c.tags, reply: r.text, fails: applyChecks(parseReply(r.text), c.checks) };
  }));
  await sched.close();
  await session.release();
  for (const r of results) if (r.fails.length) console.log(`FAIL ${r.id}: ${JSON.stringify(r.reply)} — ${r.fails.join("; ")}`);
  console.log(JSON.stringify(scoreResults(results)));
}
