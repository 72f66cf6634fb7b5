import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import type { FoldedLora } from "../../core/runtime/lora/mixture.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { Scheduler } from "../../core/runtime/scheduler/scheduler.ts";
import { rgbToPixels, VisionEncoder, withMirror } from "../../core/vision/encoder.ts";
import { loadVisionPackage } from "../../core/vision/manifest.ts";
import { PropDetector } from "../../core/vision/detector.ts";
import { Projector } from "../../core/vision/projector.ts";
import { SIGHT_SKILL, type SightFact } from "../../core/vision/seen.ts";
import { answersFromSight } from "../../core/vision/sight.ts";
import { answerInPrompt } from "../../core/vision/ask.ts";
import { sayPlainly } from "../../core/vision/agree.ts";
import type { ViewRecord } from "../vision/render.ts";
import { sceneOfRecord, sightPromptFor } from "../vision/sight-data.ts";
import { loadCards } from "./world.ts";
import { encodeInBrowser } from "./grounding-browser.ts";
import { answerMatches } from "./grounding-score.ts";
import { groundingFigures } from "./grounding-summary.ts";
import { groundingHtml } from "./grounding-html.ts";
import { foldPacks, openModel } from "./grounding-suite.ts";
import { retryFigures, voicedReply } from "./voiced.ts";

// npm run eval:grounding -- [--sight eyes|scene] [--data data/vision] [--split heldout] [--limit N] [--vision assets/vision]
//   [--model assets/model] [--adapters adapters] [--node] [--temperature T] [--html F] [--suite <cases.jsonl> [--no-view | --always-view]]
// --sight scene: the scene-graph path instead of the eyes (training/eval/grounding-scene.ts).
// --record: writes {accuracy, blind_accuracy, questions} into the package's vision.json as
// `grounding` (the server trusts a package's eyes by it: core/vision/manifest.ts readsViews); only
// for a whole held-out split (no --limit).
// --replies F: one JSON line a question (its type, key, the reply and whether it scores, the answer
// line the reply was checked against said plainly and whether that scores, the tries).
// Grounded questions about held-out rendered views (training/vision/questions.ts), answered by the
// real runtime the way the game does: the picture is encoded in headless Chromium on
// onnxruntime-web (--node: onnxruntime-node), projected to visual tokens, spliced into the prompt,
// generated greedily with the NPC's persona pack and the skill-vision pack. When the package has a
// prop detector (core/vision/detector.ts), a question about the props in view (answersFromSight) is
// answered as the server does with such a package: the detector's props as the sight lines, the
// scene's props left out of the nearby lines, the persona and skill-sight packs, no visual tokens.
// The same questions are asked again with a blank picture (blind). Last stdout line: one JSON object.

export interface QaRecord {
  view: number; npc: string; type: string; question: string; answer: string; key: string | string[];
  probe?: string; prompt: string;
}

const USAGE = "usage: npm run eval:grounding -- [--sight eyes|scene] [--record] [--data data/vision] [--split heldout] [--limit N] [--vision assets/vision] [--model assets/model] [--adapters adapters] [--node] [--temperature T] [--sight-retries N] [--html FILE] [--replies FILE.jsonl] [--suite FILE [--no-view | --always-view]]";

function parseArgs(argv: string[]) {
  const a = { record: false, sight: "eyes", data: "data/vision", split: "heldout", limit: 0, vision: "assets/vision", model: "assets/model", adapters: "adapters", node: false, noView: false, alwaysView: false, html: "", out: "", replies: "", suite: "", batch: 16, temperature: 0, sightRetries: 4 };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === "--node") { a.node = true; continue; }
    if (f === "--record") { a.record = true; continue; }
    if (f === "--no-view") { a.noView = true; continue; }
    if (f === "--always-view") { a.alwaysView = true; continue; }
    const v = argv[++i];
    if (v === undefined || v.startsWith("--")) throw new Error(`${f} needs a value\n${USAGE}`);
    if (f === "--sight-retries") {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 8) throw new Error(`--sight-retries needs an integer from 0 to 8, got ${v}`);
      a.sightRetries = n;
    } else if (f === "--limit" || f === "--batch") {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${f} needs a positive integer, got ${v}`);
      a[f.slice(2) as "limit" | "batch"] = n;
    } else if (f === "--temperature") {
      const t = Number(v);
      if (!(t >= 0 && t <= 10)) throw new Error(`--temperature must be a number from 0 to 10, got ${v}`);
      a.temperature = t;
    } else if (f === "--sight") {
      if (v !== "eyes" && v !== "scene") throw new Error(`--sight must be eyes or scene, got ${v}\n${USAGE}`);
      a.sight = v;
    } else if (["--data", "--split", "--vision", "--model", "--adapters", "--html", "--out", "--suite", "--replies"].includes(f)) {
      (a as Record<string, unknown>)[f.slice(2)] = v;
    } else throw new Error(`unknown option "${f}"\n${USAGE}`);
  }
  return a;
}

const log = (l: string) => process.stderr.write(l + "\n");

export function readQa(file: string): QaRecord[] {
  if (!existsSync(file)) throw new Error(`${file}: not found (render and write questions first: npm run vision:render / vision:questions)`);
  return readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l, i) => {
    const q = JSON.parse(l) as QaRecord;
    if (typeof q.prompt !== "string" || typeof q.view !== "number" || q.key === undefined) throw new Error(`${file}:${i + 1}: not a question record (needs view, prompt, key)`);
    return q;
  });
}

/** Visible props of each view as "colour kind", from views.jsonl. */
function visibleSets(file: string): string[][] {
  return readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => {
    const v = JSON.parse(l) as { props: { kind: string; colour: string; visible: boolean }[] };
    return v.props.filter((p) => p.visible).map((p) => `${p.colour} ${p.kind}`);
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};
const r4 = (x: number) => Math.round(x * 10000) / 10000;

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.record && (a.limit || a.split !== "heldout" || a.suite || a.sight !== "eyes")) throw new Error("--record takes the eyes' run on the whole held-out split (no --limit, --suite or --sight scene)");
  if (a.suite) {
    const { runGroundedSuite } = await import("./grounding-suite.ts");
    return runGroundedSuite(a);
  }
  const dir = join(a.data, a.split);
  let qa = readQa(join(dir, "qa.jsonl"));
  if (a.limit) qa = qa.slice(0, a.limit);
  if (a.sight === "scene") {
    const { runSceneSight } = await import("./grounding-scene.ts");
    const views = readFileSync(join(dir, "views.jsonl"), "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    return runSceneSight(a, qa, views);
  }
  const visible = visibleSets(join(dir, "views.jsonl"));
  const nViews = Math.max(...qa.map((q) => q.view)) + 1;

  const vpkg = await loadVisionPackage(a.vision, nodePackageFiles);
  const D = vpkg.manifest.grid * vpkg.manifest.grid * vpkg.manifest.feature_dim;
  const nodeEnc = await VisionEncoder.create(vpkg, nodeBackend({ threads: 1 }));
  // Each picture's features and its mirror's (the detector's second look), as the game's client sends them.
  let features: Float32Array, mirrors: Float32Array;
  let encodeMs: number[] = [];
  let encodeWhere = "node";
  const S = vpkg.manifest.image_size, n = S * S;
  const raw = new Uint8Array(readFileSync(join(dir, "images.u8")));
  const pixelsOf = (i: number) => rgbToPixels(raw.subarray(i * 3 * n, (i + 1) * 3 * n), S);
  if (a.node) {
    features = new Float32Array(nViews * D);
    mirrors = new Float32Array(nViews * D);
    for (let i = 0; i < nViews; i++) {
      const both = withMirror(pixelsOf(i), S);
      const t = performance.now();
      const f = await nodeEnc.encode(both, 2);
      encodeMs.push(performance.now() - t);
      features.set(f.subarray(0, D), i * D);
      mirrors.set(f.subarray(D), i * D);
    }
  } else {
    log(`grounding: encoding ${nViews} views in headless Chromium (onnxruntime-web, wasm) ...`);
    const r = await encodeInBrowser(a.vision, join(dir, "images.u8"), nViews);
    features = r.features;
    mirrors = r.mirrors;
    encodeMs = r.ms;
    encodeWhere = "browser";
    // the browser's features against the server's encoder on the first pictures
    let maxDiff = 0;
    for (let i = 0; i < Math.min(8, nViews); i++) {
      const f = await nodeEnc.encode(pixelsOf(i), 1);
      for (let k = 0; k < D; k++) maxDiff = Math.max(maxDiff, Math.abs(f[k] - features[i * D + k]));
    }
    log(`grounding: browser vs node features, max |diff| ${maxDiff.toExponential(2)}`);
  }
  const projector = new Projector(vpkg);
  const tokens = Array.from({ length: nViews }, (_, i) => projector.project(features.subarray(i * D, (i + 1) * D)));
  const blankFeatures = await nodeEnc.encode(new Float32Array(3 * n), 1);
  const blank = projector.project(blankFeatures);
  await nodeEnc.release();
  // The detector's props per view, and of the blank picture; prompts for the questions it answers.
  const detector = vpkg.detectorWeights && vpkg.manifest.detector ? new PropDetector(vpkg.detectorWeights, vpkg.manifest, vpkg.manifest.detector) : null;
  const detected: SightFact[][] = detector ? Array.from({ length: nViews }, (_, i) => detector.sight(features.subarray(i * D, (i + 1) * D), mirrors.subarray(i * D, (i + 1) * D))) : [];
  const blankSight = detector ? detector.sight(blankFeatures, blankFeatures) : [];
  const byDetector = (q: QaRecord) => detector !== null && answersFromSight(q.question);
  // The prompt of a question the detector answers, given each view's props (seeing, or blank).
  let eyesPrompt: ((sightOf: (view: number) => SightFact[]) => (q: QaRecord) => string) | null = null;
  if (detector) {
    const records: ViewRecord[] = readFileSync(join(dir, "views.jsonl"), "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    const cards = loadCards(process.cwd());
    const sceneOf = sceneOfRecord();
    eyesPrompt = (sightOf) => {
      const promptFor = sightPromptFor(sceneOf, { fromEyes: (r) => sightOf(r.index) });
      return (q) => promptFor(records[q.view], cards.get(q.npc)!, q.question);
    };
    const sure = (d: SightFact[]) => d.filter((f) => !f.faint).length;
    const found = detected.reduce((s, d) => s + sure(d), 0), faint = detected.reduce((s, d) => s + d.length - sure(d), 0);
    log(`grounding: the package's prop detector found ${found} props in ${nViews} views (${visible.slice(0, nViews).reduce((s, v) => s + v.length, 0)} visible; ${faint} faint ones besides), ${sure(blankSight)} in a blank picture (${blankSight.length - sure(blankSight)} faint)`);
  }

  const { session, model, bank } = await openModel(a.model, a.adapters);
  const visionAdapter = vpkg.manifest.adapter ?? "skill-vision";
  const folded = new Map<string, FoldedLora | null>();
  const mixtureOf = async (npc: string, skill: string): Promise<FoldedLora | null> => {
    const key = `${npc}|${skill}`;
    if (!folded.has(key)) folded.set(key, await foldPacks(bank, [npc, skill]));
    return folded.get(key)!;
  };

  const run = async (label: string, imageOf: (q: QaRecord) => Float32Array, sightOf: (view: number) => SightFact[]) => {
    const promptOf = eyesPrompt?.(sightOf);
    const sched = new Scheduler(model, { maxBatch: a.batch, maxQueue: qa.length * (1 + a.sightRetries) + 1 }); // room for every retry
    const t0 = performance.now();
    let done = 0, lastLog = t0;
    const voiced = await Promise.all(qa.map(async (q, i) => {
      const req = byDetector(q)
        ? { prompt: promptOf!(q), lora: await mixtureOf(q.npc, SIGHT_SKILL) }
        : { prompt: q.prompt, lora: await mixtureOf(q.npc, visionAdapter), image: imageOf(q) };
      const r = await voicedReply(sched, req, { prompt: req.prompt, say: q.question, i }, a);
      done++;
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        const el = (lastLog - t0) / 1000;
        log(`grounding ${label}: ${done}/${qa.length} questions, ${el.toFixed(0)} s, ETA ${((el / done) * (qa.length - done)).toFixed(0)} s`);
      }
      return { ...r, prompt: req.prompt };
    }));
    await sched.close();
    return voiced;
  };
  const seeingVoiced = await run("seeing", (q) => tokens[q.view], (view) => detected[view]);
  const seeing = seeingVoiced.map((v) => v.text);
  if (a.replies) {
    mkdirSync(dirname(a.replies), { recursive: true });
    writeFileSync(a.replies, qa.map((q, i) => {
      const line = answerInPrompt(seeingVoiced[i].prompt);
      const plain = line === null ? null : sayPlainly(line);
      return JSON.stringify({
        view: q.view, type: q.type, question: q.question, key: q.key, reply: seeing[i], ok: answerMatches(q.type, q.key, seeing[i]),
        plain, plain_ok: plain === null ? null : answerMatches(q.type, q.key, plain), tries: seeingVoiced[i].tries, agrees: seeingVoiced[i].agrees,
      });
    }).join("\n") + "\n");
    log(`grounding: wrote ${qa.length} replies to ${a.replies}`);
  }
  const blind = (await run("blind", () => blank, () => blankSight)).map((v) => v.text);
  await model.session.release?.();

  // With a detector: the same figures on each part (the questions each way answered).
  const part = (keep: (q: QaRecord) => boolean) => {
    const idx = qa.map((q, i) => (keep(q) ? i : -1)).filter((i) => i >= 0);
    const f = groundingFigures(idx.map((i) => qa[i]), idx.map((i) => seeing[i]), idx.map((i) => blind[i]), visible);
    return { accuracy: f.accuracy, blind_accuracy: f.blind_accuracy, questions: idx.length };
  };
  const result = {
    questions: qa.length, views: nViews, split: a.split,
    ...groundingFigures(qa, seeing, blind, visible),
    ...(detector ? { detector_only: part(byDetector), tokens_only: part((q) => !byDetector(q)) } : {}),
    sight_check: { retries: a.sightRetries, ...retryFigures(seeingVoiced) },
    encode_ms_browser: encodeWhere === "browser" ? r4(pct(encodeMs, 0.5)) : null,
    encode_ms_browser_p95: encodeWhere === "browser" ? r4(pct(encodeMs, 0.95)) : null,
    encode_ms_node: encodeWhere === "node" ? r4(pct(encodeMs, 0.5)) : undefined,
    vision: { trained: vpkg.manifest.trained ?? null, adapter: visionAdapter, detector: detector ? { questions: qa.filter(byDetector).length, adapter: SIGHT_SKILL, ...detector.spec } : null },
  };
  const html = a.html || "training/results/vision/grounding.html";
  mkdirSync(dirname(html), { recursive: true });
  mkdirSync(dirname(a.out || "training/results/vision/grounding.json"), { recursive: true });
  writeFileSync(html, groundingHtml(result, qa, seeing, blind));
  const out = a.out || "training/results/vision/grounding.json";
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  log(`grounding: wrote ${html} and ${out}`);
  if (a.record) {
    const file = join(a.vision, "vision.json");
    const manifest = JSON.parse(readFileSync(file, "utf8"));
    manifest.grounding = { accuracy: result.accuracy, blind_accuracy: result.blind_accuracy, questions: result.questions };
    // With a detector, also the questions the visual tokens answered: the server trusts the tokens by these.
    if (detector) manifest.grounding_tokens = result.tokens_only;
    else delete manifest.grounding_tokens;
    writeFileSync(file, JSON.stringify(manifest, null, 2) + "\n");
    log(`grounding: recorded in ${file}: ${JSON.stringify(manifest.grounding)}`);
  }
  for (let i = 0; i < qa.length; i++) if (!answerMatches(qa[i].type, qa[i].key, seeing[i]) && i < 400) console.log(`FAIL ${qa[i].type} view ${qa[i].view} "${qa[i].question}" key ${JSON.stringify(qa[i].key)} → ${JSON.stringify(seeing[i])}`);
  console.log(JSON.stringify(result));
}

main().catch((e) => { console.error(`eval:grounding: ${(e as Error).message}`); process.exit(1); });
