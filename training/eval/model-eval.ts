import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scoreResults, type SuiteScore } from "../../core/eval/score.ts";
import { SpeakerClassifier } from "../../core/eval/speaker.ts";
import { LanguageModel } from "../../core/runtime/index.ts";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import { loadModelPackage } from "../../core/runtime/model/package.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { DecoderSession } from "../../core/runtime/session.ts";
import { loadGate, RuleGate, type Gate } from "../../core/runtime/gate/gate.ts";
import { chooseMixture } from "../../core/runtime/gate/mix.ts";
import { SIGHT_SKILL } from "../../core/vision/seen.ts";
import { AdapterBank } from "../../core/runtime/lora/bank.ts";
import { baseModelHash } from "../../core/runtime/lora/base-hash.ts";
import { nodeBankFiles } from "../../server/adapters/files.ts";
import type { CharacterCard } from "../../core/character/schema.ts";
import { gateMoodAccuracy, readMoodSamples, sampleGameState, seededRandom } from "./gate-eval.ts";
import { resultsHtml } from "./html.ts";
import { heldoutPerplexity, readTokenSplit } from "./perplexity.ts";
import { readSuite, runSuite, suiteName, type RunResult } from "./run-suite.ts";
import { loadCards } from "./world.ts";

// npm run eval:model -- [--model assets/model] [--heldout data/heldout] [--ppl-samples 200]
//   [--evals evals] [--limit N] [--batch 16] [--results training/results]
//   [--adapters adapters | --adapters none] [--gate-samples 2000] [--seed 1] [--lore-retries 4]
// One JSON line (last on stdout): held-out perplexity (computed with the runtime on the exported
// weights, completion tokens only); every suite in --evals generated twice: base model only, and
// the game's path (adapter bank + gate: persona pack at weight 1 + gated mood packs, through the
// continuous-batching scheduler, each reply checked as the server checks it: sight lines against
// their answer, questions a card fact answers against the fact; the suites are also scored on the
// first replies, the model's own before any check); the n-gram speaker classifier's accuracy on both sets of replies;
// the gate's mood accuracy on held-out data samples (its top mood vs the sample's mood label), for
// the trained gate (adapters/gate/) and the rule gate.

const USAGE = "usage: npm run eval:model -- [--model DIR] [--heldout PREFIX] [--ppl-samples N] [--evals DIR] [--limit N] [--batch N] [--results DIR] [--adapters DIR|none] [--gate-samples N] [--seed N] [--lore-retries N]";

function parseArgs(argv: string[]) {
  const a = { model: "assets/model", heldout: "data/heldout", pplSamples: 200, evals: "evals", limit: 0, batch: 16, results: "training/results", adapters: "adapters", gateSamples: 2000, seed: 1, loreRetries: 4 };
  for (let i = 0; i < argv.length; i += 2) {
    const f = argv[i], v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${f} needs a value\n${USAGE}`);
    const num = () => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new Error(`${f} needs a non-negative integer, got ${v}`); return n; };
    if (f === "--model") a.model = v;
    else if (f === "--heldout") a.heldout = v;
    else if (f === "--ppl-samples") a.pplSamples = num();
    else if (f === "--evals") a.evals = v;
    else if (f === "--limit") a.limit = num();
    else if (f === "--batch") a.batch = Math.max(1, num());
    else if (f === "--results") a.results = v;
    else if (f === "--adapters") a.adapters = v;
    else if (f === "--gate-samples") a.gateSamples = num();
    else if (f === "--seed") a.seed = num();
    else if (f === "--lore-retries") a.loreRetries = num();
    else throw new Error(`unknown option "${f}"\n${USAGE}`);
  }
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!existsSync(a.evals)) throw new Error(`--evals ${a.evals}: not found`);
  const suites = readdirSync(a.evals).filter((f) => f.endsWith(".jsonl")).sort();
  if (suites.length === 0) throw new Error(`--evals ${a.evals}: no .jsonl suites`);
  const pkg = await loadModelPackage(a.model, nodePackageFiles);
  const session = await DecoderSession.create(pkg, nodeBackend(), { cacheDir: ".cache/graphs" });
  const model = LanguageModel.fromSession(session, pkg);

  const ppl = a.pplSamples > 0 ? await heldoutPerplexity(session, readTokenSplit(a.heldout), a.pplSamples) : null;

  const cards = loadCards(process.cwd());
  const clf = SpeakerClassifier.fromCards(cards.values());
  const speakerAcc = (rs: RunResult[]) => rs.filter((r) => clf.predict(r.reply) === r.speaker).length / Math.max(1, rs.length);
  mkdirSync(a.results, { recursive: true });

  /** Every suite; `mixture` set = the game's adapter path. */
  const runAll = async (label: string, mixture?: Parameters<typeof runSuite>[2]["mixture"], sight = false) => {
    const scores: Record<string, SuiteScore> = {};
    const firstScores: Record<string, SuiteScore> = {};
    const all: RunResult[] = [];
    for (const f of suites) {
      const name = suiteName(f);
      let cases = readSuite(join(a.evals, f));
      if (a.limit) cases = cases.slice(0, a.limit);
      const results = await runSuite(model, cases, { root: process.cwd(), batch: a.batch, mixture, sight, loreRetries: a.loreRetries, progress: (l) => process.stderr.write(`${label} ${name} ${l}\n`) });
      scores[name] = scoreResults(results);
      firstScores[name] = scoreResults(results.map((r) => (r.voiced ? { ...r, fails: r.voiced.firstFails } : r)));
      writeFileSync(join(a.results, `eval-${name}${mixture ? "-adapters" : ""}.html`), resultsHtml(`${name} (${label})`, a.model, cases, results, scores[name]));
      all.push(...results);
    }
    return { scores, firstScores, all };
  };
  const base = await runAll("base");

  // The adapter path: the bank over --adapters, the trained gate when adapters/gate/ exists.
  let adapted: Awaited<ReturnType<typeof runAll>> | null = null;
  let gateAcc: Record<string, unknown> | null = null;
  let adapterInfo: Record<string, unknown> | null = null;
  if (a.adapters !== "none" && existsSync(a.adapters)) {
    const hash = baseModelHash(pkg);
    const bank = new AdapterBank({ root: a.adapters, files: nodeBankFiles, base: { config: pkg.config, hash, name: a.model } });
    const gate: Gate = await loadGate(join(a.adapters, "gate"), nodePackageFiles, pkg.config.hiddenSize);
    const packs = (await Promise.all((await bank.list()).map(async (p) => {
      try {
        const got = await bank.get(p.id);
        return { id: p.id, kind: got.meta.kind, ok: true, error: null as string | null };
      } catch (e) {
        return { id: p.id, kind: null, ok: false, error: (e as Error).message };
      }
    })));
    adapterInfo = { base_hash: hash, gate: gate.kind, packs: packs.filter((p) => p.ok).map((p) => p.id), refused: packs.filter((p) => !p.ok && !p.error?.includes("adapter_config.json is missing")).map((p) => ({ id: p.id, error: p.error })) };
    process.stderr.write(`adapters: ${JSON.stringify(adapterInfo)}\n`);
    if (packs.some((p) => p.ok)) {
      const rand = seededRandom(a.seed);
      const skipped = new Map<string, number>();
      // As the server runs by default: a line about sight gets the props in view marked among its
      // nearby lines and the skill-sight pack at weight 1 (when the bank has it).
      const sightPack = packs.some((p) => p.ok && p.id === SIGHT_SKILL);
      adapterInfo.sight_lines = sightPack;
      adapted = await runAll("adapters", async (c, card, ids, sight) => {
        const state = sampleGameState(c.state, rand);
        const fixed = sight ? { [SIGHT_SKILL]: 1 } : undefined;
        const ch = await chooseMixture(bank, gate, session, { candidates: candidatesOf(card), state, promptIds: ids, text: c.say, fixed });
        for (const s of ch.skipped) skipped.set(s.id, (skipped.get(s.id) ?? 0) + 1);
        return ch.lora;
      }, sightPack);
      if (skipped.size) adapterInfo.skipped = Object.fromEntries(skipped);
    }
    const heldJsonl = a.heldout + ".jsonl";
    if (a.gateSamples > 0 && existsSync(heldJsonl)) {
      const samples = readMoodSamples(heldJsonl, a.gateSamples);
      const byNpc = (npc: string) => candidatesOf([...cards.values()].find((c) => c.id === npc) ?? null);
      const ctx = { session, tokenizer: model.tokenizer, candidates: byNpc, seed: a.seed };
      gateAcc = {
        trained: gate.kind === "mlp" ? gateMoodAccuracy(gate, samples, ctx) : null,
        rules: gateMoodAccuracy(new RuleGate(), samples, ctx),
        samples: samples.length,
        how: "top mood adapter of the gate vs the sample's mood label, held-out data samples at an even stride",
      };
    }
  }
  await model.release();

  // Reference: the classifier on the corpus's own held-out replies (what a perfect voice would score).
  let refAcc: number | null = null;
  const heldJsonl = a.heldout + ".jsonl";
  if (existsSync(heldJsonl)) {
    const lines = readFileSync(heldJsonl, "utf8").split("\n").filter(Boolean).slice(0, 1000).map((l) => JSON.parse(l) as { npc: string; completion: string });
    refAcc = lines.filter((s) => clf.predict(s.completion) === s.npc).length / lines.length;
  }
  // A few real replies per suite, for the README and for reading the model's behaviour.
  const pick = (rs: RunResult[]) => rs.filter((_, i) => i % 10 === 0).map((r) => ({ id: r.id, reply: r.reply, pass: r.fails.length === 0, fails: r.fails, ...(r.weights ? { weights: r.weights } : {}) }));
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  const mean = (sc: Record<string, SuiteScore>) => r4(Object.values(sc).reduce((s, x) => s + x.score, 0) / suites.length);
  const flat = (sc: Record<string, SuiteScore>) => Object.fromEntries(Object.entries(sc).map(([k, v]) => [k, v.score]));
  const summary = {
    model: a.model,
    heldout_perplexity: ppl ? { ...ppl, computed_with: "runtime (onnxruntime-node) on the exported weights, completion tokens only" } : null,
    suites: flat(base.scores),
    mean_suite_score: mean(base.scores),
    suites_with_adapters: adapted ? flat(adapted.scores) : null,
    mean_suite_score_with_adapters: adapted ? mean(adapted.scores) : null,
    // The game's path scored on each case's first reply: the model with its adapters, before the checks.
    suites_with_adapters_first_reply: adapted ? flat(adapted.firstScores) : null,
    mean_suite_score_with_adapters_first_reply: adapted ? mean(adapted.firstScores) : null,
    reply_checks: adapted ? { lore_retries: a.loreRetries, sight: checkFigures(adapted.all, "sight"), lore: checkFigures(adapted.all, "lore"), act: checkFigures(adapted.all, "act"), near: checkFigures(adapted.all, "near"), mood: checkFigures(adapted.all, "mood") } : null,
    speaker_id: {
      accuracy: r4(speakerAcc(base.all)),
      accuracy_with_adapters: adapted ? r4(speakerAcc(adapted.all)) : null,
      replies: base.all.length,
      classifier: "naive Bayes on word 1-2-grams of the cards' lines",
      reference_accuracy_on_heldout_corpus: refAcc === null ? null : r4(refAcc),
    },
    gate_mood_accuracy: gateAcc,
    adapters: adapterInfo,
  };
  writeFileSync(join(a.results, "eval-model.json"), JSON.stringify({ ...summary, samples: pick(base.all), samples_with_adapters: adapted ? pick(adapted.all) : null }, null, 1) + "\n");
  console.log(JSON.stringify(summary));
}

/** Of the replies a check of `kind` applied to: how many, the share written again, and the share said plainly (no try agreed). */
function checkFigures(rs: RunResult[], kind: NonNullable<NonNullable<RunResult["voiced"]>["kind"]>) {
  const mine = rs.filter((r) => r.voiced?.kind === kind);
  const share = (n: number) => Math.round((n / Math.max(1, mine.length)) * 1e4) / 1e4;
  return { checked: mine.length, revoiced: share(mine.filter((r) => r.voiced!.tries > 1).length), said_plainly: share(mine.filter((r) => r.voiced!.plain).length) };
}

function candidatesOf(card: CharacterCard | null) {
  const ad = card?.adapters;
  return ad ? { persona: ad.persona, moods: ad.moods, skills: ad.skills } : { persona: null, moods: [], skills: [] };
}

main().catch((e) => { console.error(`eval:model: ${(e as Error).message}`); process.exit(1); });
