import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseScene } from "../core/scene/load.ts";
import { PYTHON } from "./pipeline-smoke.ts";

// The whole training pipeline in one command, in a time budget: a studio's scene and cards in, a
// model package and adapter packs out, ready for `KITH_MODEL=<out>/model KITH_ADAPTERS=<out>/adapters
// npm start`, with the evaluation of what came out.
//
//   npm run pipeline -- --out runs/r1 [--minutes 90] [--scene village] [--cards adapters]
//                       [--samples 60000] [--seed 1] [--init-from DIR] [--lanes 2] [--base-voice card|neutral]
//
// Stages: data engine (train/held-out splits and held-out evaluation suites from the scene and the
// cards) → tokenizer (or --tokenizer DIR to keep one) → tokenize → base model (from scratch, or
// --init-from a model package to fine-tune one) → export → one LoRA per character → mood packs on
// top of them → the gate → eval:model. The fixed stages are timed as they run; what is left of the
// budget goes 65 / 20 / 15 to the base, the characters and the moods, and packs train `--lanes` at a
// time on one thread each. Skill packs (skill-sight, skill-vision) need data of their own and are
// not part of this (training/README.md, training/vision/README.md).
// --base-voice neutral: the base trains on a second corpus of the same seed in which every card's
// plain twin speaks (training/data/neutral.ts), so the voices are the character packs' alone; the
// tokenizer, packs, gate and evaluation keep the cards' own corpus.
// Progress: a line per stage with the time spent and an ETA for the whole run; the tools' own
// progress lines (each with its ETA) in between. Last stdout line: one JSON object of the run.

interface Args {
  out: string; minutes: number; scene: string; cards: string; samples: number; seed: number;
  tokenizer: string | null; initFrom: string | null; lanes: number; baseVoice: "card" | "neutral"; layers: number;
}

const USAGE = "usage: npm run pipeline -- --out DIR [--minutes 90] [--scene village] [--cards adapters] [--samples 60000] [--seed 1] [--tokenizer DIR] [--init-from DIR] [--lanes 2] [--base-voice card|neutral] [--layers 9]";

export function parseArgs(argv: string[]): Args {
  const a: Args = { out: "", minutes: 90, scene: "village", cards: "adapters", samples: 60000, seed: 1, tokenizer: null, initFrom: null, lanes: 2, baseVoice: "card", layers: DEFAULT_LAYERS };
  for (let i = 0; i < argv.length; i += 2) {
    const [f, v] = [argv[i], argv[i + 1]];
    if (v === undefined || v.startsWith("--")) throw new Error(`${f} needs a value\n${USAGE}`);
    const num = (min: number) => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < min) throw new Error(`${f} ${v}: should be a number ≥ ${min}\n${USAGE}`);
      return x;
    };
    if (f === "--out") a.out = v;
    else if (f === "--minutes") a.minutes = num(1);
    else if (f === "--scene") a.scene = v;
    else if (f === "--cards") a.cards = v;
    else if (f === "--samples") a.samples = Math.round(num(100));
    else if (f === "--seed") a.seed = Math.round(num(0));
    else if (f === "--tokenizer") a.tokenizer = v;
    else if (f === "--init-from") a.initFrom = v;
    else if (f === "--lanes") a.lanes = Math.round(num(1));
    else if (f === "--layers") a.layers = Math.round(num(1));
    else if (f === "--base-voice") {
      if (v !== "card" && v !== "neutral") throw new Error(`--base-voice ${v}: should be card or neutral\n${USAGE}`);
      a.baseVoice = v;
    }
    else throw new Error(`unknown option ${f}\n${USAGE}`);
  }
  if (!a.out) throw new Error(`--out is required\n${USAGE}`);
  return a;
}

/** Layers of the base (hidden size 192, 6 query and 2 key/value heads, MLP 512, vocab 4096): 9 is
 *  4.33M parameters. With --init-from a model of fewer layers, the new ones go on top as identities
 *  (train_base.py grow_into). */
export const DEFAULT_LAYERS = 9;

/** Shares of the trainable budget, after the fixed stages. */
export const SHARES = { base: 0.55, characters: 0.27, moods: 0.18 };

/** Minutes each pack of `n` gets when `lanes` train side by side within `minutes`. */
export function perPack(minutes: number, n: number, lanes: number): number {
  return n === 0 ? 0 : minutes / Math.ceil(n / Math.min(lanes, n));
}

/** Splits ids into `lanes` lists, round robin. */
export function splitLanes<T>(ids: T[], lanes: number): T[][] {
  const out: T[][] = Array.from({ length: Math.min(lanes, ids.length) }, () => []);
  ids.forEach((id, i) => out[i % out.length].push(id));
  return out;
}

function runTool(cmd: string, args: string[], logFile?: string): Promise<string> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    p.stdout.on("data", (b: Buffer) => { stdout += b; process.stderr.write(b); });
    p.on("error", fail);
    p.on("exit", (code) => {
      if (logFile) writeFileSync(logFile, stdout);
      if (code === 0) ok(stdout);
      else fail(new Error(`${cmd} ${args.join(" ")} exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const out = resolve(a.out);
  const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
  const scenePath = join("scenes", `${a.scene}.json`);
  const scene = parseScene(JSON.parse(readFileSync(scenePath, "utf8")), scenePath);
  // The characters: the cards the scene's NPCs name; their persona pack ids and allowed moods.
  const cards = [...new Set(scene.npcs.map((n) => n.character))].map((id) => {
    const file = join(a.cards, id, "character.json");
    if (!existsSync(file)) throw new Error(`${file}: the scene's NPC "${id}" has no card`);
    return { id, card: JSON.parse(readFileSync(file, "utf8")) as { adapters?: { persona?: string; moods?: string[] }; moods?: string[] } };
  });
  const characters = cards.map((c) => c.card.adapters?.persona ?? c.id);
  const moods = [...new Set(cards.flatMap((c) => c.card.adapters?.moods ?? (c.card.moods ?? []).map((m) => `mood-${m}`)))];
  for (const d of ["data", "evals", "model", "adapters", "out", "results"]) mkdirSync(join(out, d), { recursive: true });
  for (const c of cards) {
    mkdirSync(join(out, "adapters", c.id), { recursive: true });
    copyFileSync(join(a.cards, c.id, "character.json"), join(out, "adapters", c.id, "character.json"));
  }

  const t0 = performance.now();
  const seconds: Record<string, number> = {};
  const elapsedMin = () => (performance.now() - t0) / 60000;
  const budget = { base: 0, characters: 0, moods: 0 };
  // Minutes kept for what is not training steps: export, gate, evaluation (~2), and each pack's
  // start-up and before/after held-out loss (~0.6 a pack, packs of a lane one after another).
  const lanesOf = (n: number) => Math.ceil(n / Math.max(1, Math.min(a.lanes, n)));
  const FIXED_AFTER = 2 + 0.6 * (lanesOf(characters.length) + lanesOf(moods.length));
  const stage = async (name: string, n: number, fn: () => Promise<unknown>) => {
    const left = Math.max(0, a.minutes - elapsedMin());
    process.stderr.write(`[pipeline] ${n}/9 ${name} — ${elapsedMin().toFixed(1)} min so far, ETA ~${left.toFixed(0)} min left of ${a.minutes}\n`);
    const t = performance.now();
    await fn();
    seconds[name] = Math.round((performance.now() - t) / 100) / 10;
  };
  const data = join(out, "data");
  // A base grown from another model keeps that model's tokenizer: its embedding rows are those ids.
  const givenTok = a.tokenizer ?? a.initFrom;
  const tokDir = givenTok ? resolve(givenTok) : join(out, "tokenizer");
  if (givenTok && !existsSync(join(tokDir, "tokenizer.json"))) throw new Error(`${givenTok}: no tokenizer.json there (--tokenizer and --init-from name a folder holding one)`);
  const py = (script: string, args: string[]) => runTool(PYTHON, [join("training", script), ...args]);

  // The base's corpus: the cards' own, or (--base-voice neutral) their plain twins' of the same seed.
  const baseData = a.baseVoice === "neutral" ? join(data, "neutral") : data;
  const engine = (dir: string, extra: string[]) => runTool(tsx, ["training/data/main.ts", "--out", dir, "--samples", String(a.samples), "--seed", String(a.seed), "--scene", a.scene,
    "--scene-variants", "0.5", "--phrase-grammar", "0.5", "--restate-facts", "0.5", ...extra], join(dir, "summary-stdout.json"));
  await stage("data", 1, async () => {
    await engine(data, ["--evals", join(out, "evals")]);
    if (baseData !== data) await engine(baseData, ["--no-evals", "--voice", "neutral"]);
  });
  if (!givenTok) await stage("tokenizer", 2, () => runTool(tsx, ["training/tokenizer/main.ts", "--corpus", join(data, "train.jsonl"), "--out", tokDir, "--vocab", "4096", "--max-samples", "60000"]));
  await stage("tokenize", 3, async () => {
    for (const dir of new Set([data, baseData])) {
      for (const split of ["train", "heldout"]) await runTool(tsx, ["training/tokenizer/encode-corpus.ts", "--tokenizer", join(tokDir, "tokenizer.json"), "--in", join(dir, `${split}.jsonl`), "--out", join(dir, split)]);
    }
  });
  const trainable = Math.max(1, a.minutes - elapsedMin() - FIXED_AFTER);
  budget.base = trainable * SHARES.base;
  budget.characters = trainable * SHARES.characters;
  budget.moods = trainable * SHARES.moods;
  const splitsOf = (dir: string) => [`--train_data=${join(dir, "train")}`, `--val_data=${join(dir, "heldout")}`];
  const common = splitsOf(data);
  await stage("base model", 4, () => py("train_base.py", [...splitsOf(baseData), `--out_dir=${join(out, "out", "base")}`, `--minutes=${budget.base.toFixed(2)}`, `--threads=${a.lanes}`, `--num_layers=${a.layers}`,
    ...(a.initFrom ? [`--init_from=${resolve(a.initFrom)}`, "--lr=7e-4", "--min_lr=7e-5", "--warmup_steps=10"] : ["--warmup_steps=30"]), "--eval_every=150"]));
  await stage("export", 5, () => py("export.py", ["--ckpt", join(out, "out", "base", "ckpt.pt"), "--out", join(out, "model"), "--tokenizer", tokDir, "--data", baseData, "--run_name", `pipeline-${a.scene}-seed${a.seed}`]));
  const packs = (ids: string[], minutes: number) => Promise.all(splitLanes(ids, a.lanes).map((lane) => py("train_adapters.py", [...common, `--model=${join(out, "model")}`,
    `--adapters_dir=${join(out, "adapters")}`, `--scene=${scenePath}`, `--out_dir=${join(out, "out", "adapters")}`, `--results_dir=${join(out, "results", "adapters")}`,
    `--adapters=${lane.join(",")}`, `--minutes=${perPack(minutes, ids.length, a.lanes).toFixed(2)}`, "--threads=1"])));
  await stage("character packs", 6, () => packs(characters, budget.characters));
  await stage("mood packs", 7, () => packs(moods, budget.moods));
  await stage("gate", 8, () => py("train_gate.py", [...common, `--model=${join(out, "model")}`, `--adapters_dir=${join(out, "adapters")}`, `--out=${join(out, "adapters", "gate")}`,
    `--results=${join(out, "results", "gate.json")}`, "--minutes=1"]));
  let evaluation: unknown = null;
  await stage("evaluation", 9, async () => {
    const stdout = await runTool(tsx, ["training/eval/model-eval.ts", "--model", join(out, "model"), "--heldout", join(data, "heldout"), "--evals", join(out, "evals"),
      "--adapters", join(out, "adapters"), "--results", join(out, "results"), "--ppl-samples", "100", "--gate-samples", "1000", "--limit", "30"]);
    evaluation = JSON.parse(stdout.trim().split("\n").pop()!);
  });
  const summary = {
    out, scene: a.scene, seed: a.seed, samples: a.samples, minutes_budget: a.minutes, minutes_spent: Math.round(elapsedMin() * 10) / 10,
    stage_seconds: seconds, budget_minutes: Object.fromEntries(Object.entries(budget).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    characters, moods, init_from: a.initFrom, layers: a.layers, tokenizer: tokDir, base_voice: a.baseVoice, evaluation,
    serve: `KITH_MODEL=${join(out, "model")} KITH_ADAPTERS=${join(out, "adapters")} npm start`,
  };
  writeFileSync(join(out, "pipeline.json"), JSON.stringify(summary, null, 2) + "\n");
  process.stderr.write(`[pipeline] done in ${elapsedMin().toFixed(1)} min; serve it with: ${summary.serve}\n`);
  console.log(JSON.stringify(summary));
}

if (process.argv[1] && /[\\/]pipeline\.ts$/.test(process.argv[1])) {
  main().catch((e) => {
    process.stderr.write(`pipeline: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
