import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { NearDupFilter, DEFAULT_DEDUP } from "./dedup.ts";
import { buildEvalSuites } from "./evals.ts";
import { PHRASINGS, templatesFor } from "./phrasings.ts";
import { Rng } from "./rng.ts";
import { makeScenario, type Sample } from "./sample.ts";
import { anchoredIds, sceneVariant } from "./scene-variants.ts";
import { heldOutFacts, heldOutItems, heldOutPlaces, heldOutVillagers, INTENT_WEIGHTS, type Split } from "./situations.ts";
import { neutralWorld } from "./neutral.ts";
import { loadWorld } from "./world.ts";
import { answersFromSight } from "../../core/vision/sight.ts";

// The data engine CLI:
//   npm run data -- --out data/ --samples 200000 --seed 1 [--heldout 0.1] [--evals evals/]
//                   [--eval-per-suite 60] [--eval-seed 7] [--scene village] [--no-evals]
//                   [--scene-variants 0.3] [--intents nearby,what_is,point] [--sight-lines] [--only-sight]
//                   [--restate-facts 1] [--voice card|neutral]
// Writes <out>/train.jsonl, <out>/heldout.jsonl, <out>/heldout_spec.json, <out>/summary.json
// and evals/<suite>.jsonl; progress with ETA on stderr; the last stdout line is the summary JSON.

interface Args {
  out: string;
  samples: number;
  seed: number;
  heldout: number;
  evals: string | null;
  evalPerSuite: number;
  evalSeed: number;
  scene: string;
  root: string;
  /** Share of samples drawn in a variant of the scene (scene-variants.ts): new props around the NPCs. */
  sceneVariants: number;
  /** Only these intents (in their usual proportions); null: all. */
  intents: string[] | null;
  /** Share of training phrasings drawn from the phrase grammar (phrase-grammar.ts); 0: flat templates only. */
  phraseGrammar: number;
  /** Lines about sight get the props in view marked among the nearby lines (sample.ts sightLines). */
  sightLines: boolean;
  /** Keep only samples whose line is about sight (the skill-sight pack's dialogue share). */
  onlySight: boolean;
  /** Share of fact-type samples answered with their card fact in the NPC's words (sample.ts restateFacts). */
  restateFacts: number;
  /** "neutral": every card's plain twin says the replies (neutral.ts), for a base without voices. */
  voice: "card" | "neutral";
}

function parseArgs(argv: string[]): Args {
  const args: Args = { out: "data", samples: 10000, seed: 1, heldout: 0.1, evals: "evals", evalPerSuite: 60, evalSeed: 7, scene: "village", root: ".", sceneVariants: 0, intents: null, phraseGrammar: 0, sightLines: false, onlySight: false, restateFacts: 0, voice: "card" };
  const num = (flag: string, v: string | undefined, min: number, max: number) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min || n > max) throw new Error(`${flag} needs a number in [${min}, ${max}], got ${v === undefined ? "nothing" : `"${v}"`}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case "--out": if (!v) throw new Error("--out needs a folder"); args.out = v; i++; break;
      case "--samples": args.samples = Math.floor(num(a, v, 1, 1e8)); i++; break;
      case "--seed": args.seed = Math.floor(num(a, v, 0, 2 ** 32 - 1)); i++; break;
      case "--heldout": args.heldout = num(a, v, 0, 0.9); i++; break;
      case "--evals": if (!v) throw new Error("--evals needs a folder"); args.evals = v; i++; break;
      case "--no-evals": args.evals = null; break;
      case "--eval-per-suite": args.evalPerSuite = Math.floor(num(a, v, 1, 10000)); i++; break;
      case "--eval-seed": args.evalSeed = Math.floor(num(a, v, 0, 2 ** 32 - 1)); i++; break;
      case "--scene": if (!v) throw new Error("--scene needs a scene name"); args.scene = v; i++; break;
      case "--root": if (!v) throw new Error("--root needs a folder"); args.root = v; i++; break;
      case "--scene-variants": args.sceneVariants = num(a, v, 0, 1); i++; break;
      case "--phrase-grammar": args.phraseGrammar = num(a, v, 0, 1); i++; break;
      case "--sight-lines": args.sightLines = true; break;
      case "--only-sight": args.onlySight = true; break;
      case "--restate-facts": args.restateFacts = num(a, v, 0, 1); i++; break;
      case "--voice":
        if (v !== "card" && v !== "neutral") throw new Error(`--voice needs card or neutral, got ${v === undefined ? "nothing" : `"${v}"`}`);
        args.voice = v; i++; break;
      case "--intents": {
        const list = (v ?? "").split(",").map((x) => x.trim()).filter(Boolean);
        const unknown = list.filter((x) => !(x in INTENT_WEIGHTS));
        if (list.length === 0 || unknown.length > 0) throw new Error(`--intents needs a comma-separated list of intents (${Object.keys(INTENT_WEIGHTS).join(", ")})${unknown.length ? `; unknown: ${unknown.join(", ")}` : ""}`);
        args.intents = list; i++; break;
      }
      default: throw new Error(`unknown option "${a}"; options: --out --samples --seed --heldout --evals --no-evals --eval-per-suite --eval-seed --scene --root --scene-variants --intents --phrase-grammar --sight-lines --only-sight --restate-facts --voice`);
    }
  }
  return args;
}

const bump = (m: Record<string, number>, k: string) => { m[k] = (m[k] ?? 0) + 1; };

/** Text the dedup filter compares: what varies between samples of one NPC and intent. */
export function dedupText(s: Sample): string {
  return `${s.state} | ${s.say} | ${s.completion}`;
}

export interface RunResult {
  summary: Record<string, unknown>;
}

export function run(args: Args, log: (line: string) => void = (l) => process.stderr.write(l + "\n")): RunResult {
  const t0 = performance.now();
  const loaded = loadWorld(resolve(args.root), args.scene);
  const world = args.voice === "neutral" ? neutralWorld(loaded) : loaded;
  const rng = new Rng(args.seed);

  // Pilot batch for the IDF of the dedup embedding.
  const pilotRng = new Rng(`pilot|${args.seed}`);
  const pilot: string[] = [];
  for (let i = 0; pilot.length < Math.min(5000, args.samples) && i < 50000; i++) {
    const sc = makeScenario(world, pilotRng, pilotRng.chance(args.heldout) ? "heldout" : "train", "");
    if (sc) pilot.push(dedupText(sc.sample));
  }
  const filter = new NearDupFilter(pilot, DEFAULT_DEDUP);

  mkdirSync(args.out, { recursive: true });
  const files = { train: openSync(join(args.out, "train.jsonl"), "w"), heldout: openSync(join(args.out, "heldout.jsonl"), "w") };
  const buffers: Record<Split, string[]> = { train: [], heldout: [] };
  const flush = (split: Split) => { if (buffers[split].length) { writeSync(files[split], buffers[split].join("")); buffers[split] = []; } };

  const byIntent: Record<string, number> = {}, byNpc: Record<string, number> = {}, byMood: Record<string, number> = {}, bySplit: Record<string, number> = {};
  const dropped: Record<string, number> = { duplicate: 0, dense: 0 };
  const droppedBySplit: Record<string, number> = {};
  let kept = 0, attempts = 0, empty = 0, tokenSum = 0, tokenMax = 0;
  let lastLog = performance.now();
  const maxAttempts = args.samples * 8;
  const anchored = anchoredIds(world.scene, world.cards.values());
  const intentWeights = args.intents ? Object.fromEntries(args.intents.map((k) => [k, INTENT_WEIGHTS[k]])) : null;
  let variants = 0;
  while (kept < args.samples && attempts < maxAttempts) {
    attempts++;
    const split: Split = rng.chance(args.heldout) ? "heldout" : "train";
    // Draws for the options happen only when they are set, so a plain run's samples stay as they were.
    const variant = args.sceneVariants > 0 && rng.chance(args.sceneVariants);
    const w = variant ? { ...world, scene: sceneVariant(world.scene, anchored, rng) } : world;
    const sc = makeScenario(w, rng, split, `${args.seed}-${attempts}`, {
      phraseGrammar: args.phraseGrammar, sightLines: args.sightLines, restateFacts: args.restateFacts, ...(intentWeights ? { intent: rng.weighted(intentWeights) } : {}),
    });
    if (!sc || (args.onlySight && !answersFromSight(sc.sample.say))) { empty++; continue; }
    const s = sc.sample;
    const verdict = filter.offer(dedupText(s), `${split}|${s.npc}|${s.intent}`);
    if (verdict !== "kept") { dropped[verdict]++; bump(droppedBySplit, split); continue; }
    kept++;
    if (variant) variants++;
    bump(byIntent, s.intent); bump(byNpc, s.npc); bump(byMood, s.mood); bump(bySplit, split);
    tokenSum += s.tokens; tokenMax = Math.max(tokenMax, s.tokens);
    buffers[split].push(JSON.stringify(s) + "\n");
    if (buffers[split].length >= 2000) flush(split);
    const now = performance.now();
    if (now - lastLog > 2000) {
      lastLog = now;
      const secs = (now - t0) / 1000;
      const rate = kept / secs;
      log(`data: ${kept}/${args.samples} kept (${attempts} drawn, ${dropped.duplicate + dropped.dense} dropped) ` +
        `${rate.toFixed(0)}/s, ETA ${((args.samples - kept) / Math.max(rate, 1e-9)).toFixed(0)} s`);
    }
  }
  flush("train"); flush("heldout");
  closeSync(files.train); closeSync(files.heldout);
  if (kept < args.samples) log(`data: stopped after ${attempts} draws with ${kept} kept: the filter drops too much for this many samples`);

  // What is held out, for readers and tests.
  const spec = {
    templates: Object.fromEntries(Object.keys(PHRASINGS).map((k) => [k, templatesFor(k, "heldout").map((t) => t.text)])),
    combos: Object.fromEntries([...world.cards.values()].map((c) => [c.id, {
      facts: [...heldOutFacts(c)], villagers: [...heldOutVillagers(c)], items: [...heldOutItems(c)], places: [...heldOutPlaces(c)],
    }])),
    fact_questions: "the last of each fact's `ask` list (facts with two or more)",
  };
  writeFileSync(join(args.out, "heldout_spec.json"), JSON.stringify(spec, null, 2) + "\n");

  let evalCounts: Record<string, number> | null = null;
  if (args.evals) {
    mkdirSync(args.evals, { recursive: true });
    const suites = buildEvalSuites(loaded, args.evalSeed, args.evalPerSuite); // the game's cases: the real cards
    evalCounts = {};
    for (const [name, cases] of Object.entries(suites)) {
      writeFileSync(join(args.evals, `${name}.jsonl`), cases.map((c) => JSON.stringify(c)).join("\n") + "\n");
      evalCounts[name] = cases.length;
    }
  }

  const seconds = (performance.now() - t0) / 1000;
  const summary = {
    samples: kept, attempts, empty_draws: empty, seconds: Math.round(seconds * 10) / 10, seed: args.seed, scene: args.scene, voice: args.voice,
    scene_variant_samples: variants, intents: args.intents ?? "all", phrase_grammar: args.phraseGrammar,
    by_split: bySplit, by_intent: byIntent, by_npc: byNpc, by_mood: byMood,
    dropped: { ...dropped, total: dropped.duplicate + dropped.dense, by_split: droppedBySplit, clusters: filter.clusters, options: DEFAULT_DEDUP },
    prompt_tokens_est: { mean: Math.round(tokenSum / Math.max(kept, 1)), max: tokenMax },
    evals: evalCounts,
    files: { train: join(args.out, "train.jsonl"), heldout: join(args.out, "heldout.jsonl"), spec: join(args.out, "heldout_spec.json") },
  };
  writeFileSync(join(args.out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  return { summary };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("training/data/main.ts")) {
  try {
    const { summary } = run(parseArgs(process.argv.slice(2)));
    console.log(JSON.stringify(summary));
  } catch (err) {
    console.error(`data: ${(err as Error).message}`);
    process.exit(1);
  }
}

export { parseArgs };
