// Which look threshold (core/vision/detector.ts LOOK_THRESHOLD), label threshold (LABEL_THRESHOLD)
// and list threshold (the detector spec's list_threshold) answer best: each question of a split worked out (core/vision/ask.ts) on what the package's
// detector finds at each pair, its answer line said plainly and scored as a reply would be, and the
// CHAIR of the "what do you see?" lines. No model runs, so a sweep over 3,000 questions takes
// seconds; choose on a split rendered for it, not on the held-out one.
//
//   npm run vision:render -- --split val --count 600 --seed 4243 --out data/vision
//   npm run vision:questions -- --in data/vision --split val
//   npm run vision:look-sweep -- --split val [--looks 1,0.3,0.2,0.1,0.05] [--labels 0,0.6,0.7,0.8] [--lists 0,0.8,0.9] [--vision assets/vision]
//
// Prints a line per setting and, last, one JSON object {split, questions, runs: [{look, label, list,
// accuracy, chair_i, by_type}]} (look 1 = no faint props; label 0 = every prop the detector finds is
// sure; list 0 = every sure prop is named in "what do you see?").
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { sayPlainly } from "../../core/vision/agree.ts";
import { answerSight, readSightQuestion } from "../../core/vision/ask.ts";
import { PropDetector } from "../../core/vision/detector.ts";
import { rgbToPixels, VisionEncoder, withMirror } from "../../core/vision/encoder.ts";
import { loadVisionPackage } from "../../core/vision/manifest.ts";
import { answerMatches, chair } from "../eval/grounding-score.ts";

const { values: a } = parseArgs({
  options: {
    data: { type: "string", default: "data/vision" }, split: { type: "string", default: "val" }, vision: { type: "string", default: "assets/vision" },
    looks: { type: "string", default: "1,0.4,0.3,0.2,0.15,0.1,0.05" }, labels: { type: "string", default: "0" }, lists: { type: "string", default: "0" },
  },
});
const looks = a.looks!.split(",").map(Number), labels = a.labels!.split(",").map(Number), listBars = a.lists!.split(",").map(Number);
if (listBars.some((t) => !(t >= 0 && t < 1))) throw new Error(`--lists: probabilities from 0 up to (not including) 1, got ${a.lists}`);
if (looks.some((t) => !(t > 0 && t <= 1))) throw new Error(`--looks: probabilities above 0 and at most 1, got ${a.looks}`);
if (labels.some((t) => !(t >= 0 && t < 1))) throw new Error(`--labels: probabilities from 0 up to (not including) 1, got ${a.labels}`);
const dir = join(a.data!, a.split!);
const views: { props: { kind: string; colour: string; visible: boolean }[] }[] = readFileSync(join(dir, "views.jsonl"), "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const qa: { view: number; type: string; question: string; key: string | string[] }[] = readFileSync(join(dir, "qa.jsonl"), "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const pkg = await loadVisionPackage(a.vision!, nodePackageFiles);
if (!pkg.detectorWeights || !pkg.manifest.detector) throw new Error(`${a.vision}: this vision package has no prop detector`);
const encoder = await VisionEncoder.create(pkg, nodeBackend({ threads: 2 }));
const S = pkg.manifest.image_size, n = S * S;
const raw = new Uint8Array(readFileSync(join(dir, "images.u8")));
const nViews = Math.max(...qa.map((q) => q.view)) + 1;
// Each picture and its mirror, as the game's client sends them (the detector's two looks).
const features: Float32Array[] = [], mirrors: Float32Array[] = [];
const t0 = performance.now();
for (let i = 0; i < nViews; i++) {
  const f = await encoder.encode(withMirror(rgbToPixels(raw.subarray(i * 3 * n, (i + 1) * 3 * n), S), S), 2), per = f.length / 2;
  features.push(f.slice(0, per));
  mirrors.push(f.slice(per));
  if ((i + 1) % 200 === 0 || i + 1 === nViews) {
    const s = (performance.now() - t0) / 1000;
    console.error(`look-sweep: encoded ${i + 1}/${nViews} views, ${s.toFixed(0)} s, ETA ${((s / (i + 1)) * (nViews - i - 1)).toFixed(0)} s`);
  }
}
await encoder.release();
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const runs: { look: number; label: number; list: number; accuracy: number; chair_i: number; by_type: Record<string, number> }[] = [];
for (const label of labels) for (const list of listBars) {
  for (const look of looks) {
    const detector = new PropDetector(pkg.detectorWeights, pkg.manifest, { ...pkg.manifest.detector, look_threshold: look, label_threshold: label, list_threshold: list });
    const sights = features.map((f, i) => detector.sight(f, mirrors[i]));
    const tally: Record<string, [number, number]> = {};
    const lists: { text: string; visible: string[] }[] = [];
    for (const q of qa) {
      const asked = readSightQuestion(q.question);
      const answer = asked ? answerSight(asked, sights[q.view]) : null;
      const said = answer ? sayPlainly(answer) : "";
      const t = (tally[q.type] ??= [0, 0]);
      t[0] += answer && answerMatches(q.type, q.key, said) ? 1 : 0;
      t[1]++;
      if (q.type === "what_see") lists.push({ text: said, visible: views[q.view].props.filter((p) => p.visible).map((p) => `${p.colour} ${p.kind}`) });
    }
    const right = Object.values(tally).reduce((s, t) => s + t[0], 0);
    const run = { look, label, list, accuracy: r4(right / qa.length), chair_i: r4(chair(lists).chair_i), by_type: Object.fromEntries(Object.entries(tally).map(([k, [m, c]]) => [k, r4(m / c)])) };
    runs.push(run);
    console.log(`look ${look} label ${label} list ${list}: ${run.accuracy} chair_i ${run.chair_i} ${JSON.stringify(run.by_type)}`);
  }
}
console.log(JSON.stringify({ split: a.split, questions: qa.length, runs }));
