import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scoreResults, type SuiteScore } from "../../core/eval/score.ts";
import { SpeakerClassifier } from "../../core/eval/speaker.ts";
import { LanguageModel } from "../../core/runtime/index.ts";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import { loadModelPackage } from "../../core/runtime/model/package.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { DecoderSession } from "../../core/runtime/session.ts";
import { resultsHtml } from "./html.ts";
import { heldoutPerplexity, readTokenSplit } from "./perplexity.ts";
import { readSuite, runSuite, suiteName, type RunResult } from "./run-suite.ts";
import { loadCards } from "./world.ts";

// npm run eval:model -- [--model assets/model] [--heldout data/heldout] [--ppl-samples 200]
//   [--evals evals] [--limit N] [--batch 16] [--results training/results]
// One JSON line (last on stdout): held-out perplexity (computed with the runtime on the exported
// weights, completion tokens only), the score of each suite in --evals, the n-gram speaker
// classifier's accuracy on the generated replies, and the adapter-dependent metrics as pending.

const USAGE = "usage: npm run eval:model -- [--model DIR] [--heldout PREFIX] [--ppl-samples N] [--evals DIR] [--limit N] [--batch N] [--results DIR]";

function parseArgs(argv: string[]) {
  const a = { model: "assets/model", heldout: "data/heldout", pplSamples: 200, evals: "evals", limit: 0, batch: 16, results: "training/results" };
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

  const scores: Record<string, SuiteScore> = {};
  const all: RunResult[] = [];
  mkdirSync(a.results, { recursive: true });
  for (const f of suites) {
    const name = suiteName(f);
    let cases = readSuite(join(a.evals, f));
    if (a.limit) cases = cases.slice(0, a.limit);
    const results = await runSuite(model, cases, { root: process.cwd(), batch: a.batch, progress: (l) => process.stderr.write(`${name} ${l}\n`) });
    scores[name] = scoreResults(results);
    writeFileSync(join(a.results, `eval-${name}.html`), resultsHtml(name, a.model, cases, results, scores[name]));
    all.push(...results);
  }
  await model.release();

  // Speaker identification by the n-gram classifier: on the generated replies, and as a
  // reference on the corpus's own held-out replies (what a perfect voice would score).
  const cards = loadCards(process.cwd());
  const clf = SpeakerClassifier.fromCards(cards.values());
  const withWords = all.filter((r) => clf.predict(r.reply) !== null);
  const genAcc = withWords.filter((r) => clf.predict(r.reply) === r.speaker).length / Math.max(1, all.length);
  let refAcc: number | null = null;
  const heldJsonl = a.heldout + ".jsonl";
  if (existsSync(heldJsonl)) {
    const lines = readFileSync(heldJsonl, "utf8").split("\n").filter(Boolean).slice(0, 1000).map((l) => JSON.parse(l) as { npc: string; completion: string });
    refAcc = lines.filter((s) => clf.predict(s.completion) === s.npc).length / lines.length;
  }
  // A few real replies per suite, for the README and for reading the model's behaviour.
  const samples = all.filter((_, i) => i % 10 === 0).map((r) => ({ id: r.id, reply: r.reply, pass: r.fails.length === 0, fails: r.fails }));
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  const mean = Object.values(scores).reduce((s, x) => s + x.score, 0) / suites.length;
  const summary = {
    model: a.model,
    heldout_perplexity: ppl ? { ...ppl, computed_with: "runtime (onnxruntime-node) on the exported weights, completion tokens only" } : null,
    suites: Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, v.score])),
    mean_suite_score: r4(mean),
    speaker_id: { accuracy: r4(genAcc), replies: all.length, classifier: "naive Bayes on word 1-2-grams of the cards' lines", reference_accuracy_on_heldout_corpus: refAcc === null ? null : r4(refAcc) },
    gate_mood_accuracy: null,
    pending: "gate mood accuracy and adapter-based speaker identification need the LoRA adapters and the gate (not trained yet)",
  };
  writeFileSync(join(a.results, "eval-model.json"), JSON.stringify({ ...summary, samples }, null, 1) + "\n");
  console.log(JSON.stringify(summary));
}

main().catch((e) => { console.error(`eval:model: ${(e as Error).message}`); process.exit(1); });
