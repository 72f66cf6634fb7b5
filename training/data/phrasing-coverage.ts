import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { phraseWords } from "./phrase-grammar.ts";
import { grammarTemplates, PHRASINGS, templatesFor } from "./phrasings.ts";

// How well the training phrasings cover the held-out ones: each held-out template is matched to
// its nearest training phrasing (cosine over word and word-pair counts, TF-IDF weighted, slots
// as words) and counted right when that phrasing belongs to the same intent. A cheap stand-in for
// "would a model that learned the training phrasings recognise this one": no model, seconds to run,
// so the phrasing set can be judged before hours of training are spent on it.

type Vec = Map<string, number>;

function features(text: string): string[] {
  const w = phraseWords(text);
  const out = [...w];
  for (let i = 0; i + 1 < w.length; i++) out.push(`${w[i]} ${w[i + 1]}`);
  return out;
}

function vectorise(docs: string[][], idf: Map<string, number>): Vec[] {
  return docs.map((d) => {
    const v: Vec = new Map();
    for (const f of d) v.set(f, (v.get(f) ?? 0) + (idf.get(f) ?? Math.log(1 + docs.length)));
    let norm = 0;
    for (const x of v.values()) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    for (const [k, x] of v) v.set(k, x / norm);
    return v;
  });
}

const cosine = (a: Vec, b: Vec) => { let s = 0; for (const [k, x] of a) s += x * (b.get(k) ?? 0); return s; };

export interface Coverage {
  /** Share of held-out templates whose nearest training phrasing has their intent. */
  accuracy: number;
  held_out: number;
  training_phrasings: number;
  /** Mean cosine between a held-out template and the nearest training phrasing of its own intent. */
  mean_own_similarity: number;
  by_intent: Record<string, number>;
  misses: { intent: string; text: string; nearest: string; nearest_intent: string }[];
}

/** Coverage of the held-out templates by the flat training templates, plus the grammar's when `grammar`. */
export function phrasingCoverage(grammar: boolean): Coverage {
  const train: { intent: string; text: string }[] = [];
  const held: { intent: string; text: string }[] = [];
  for (const intent of Object.keys(PHRASINGS)) {
    for (const t of templatesFor(intent, "train")) if (t.text !== "{ask}") train.push({ intent, text: t.text });
    if (grammar) for (const t of grammarTemplates(intent)) train.push({ intent, text: t.text });
    for (const t of templatesFor(intent, "heldout")) held.push({ intent, text: t.text });
  }
  const trainDocs = train.map((t) => features(t.text));
  const df = new Map<string, number>();
  for (const d of trainDocs) for (const f of new Set(d)) df.set(f, (df.get(f) ?? 0) + 1);
  const idf = new Map([...df].map(([f, n]) => [f, Math.log((1 + trainDocs.length) / (1 + n)) + 1]));
  const tv = vectorise(trainDocs, idf);
  const hv = vectorise(held.map((h) => features(h.text)), idf);
  const right: Record<string, [number, number]> = {};
  const misses: Coverage["misses"] = [];
  let correct = 0, ownSum = 0;
  hv.forEach((v, i) => {
    let best = -1, bestJ = 0, own = 0;
    tv.forEach((u, j) => {
      const c = cosine(v, u);
      if (c > best) { best = c; bestJ = j; }
      if (train[j].intent === held[i].intent && c > own) own = c;
    });
    const ok = train[bestJ].intent === held[i].intent;
    const r = (right[held[i].intent] ??= [0, 0]);
    r[1]++;
    if (ok) { correct++; r[0]++; } else misses.push({ intent: held[i].intent, text: held[i].text, nearest: train[bestJ].text, nearest_intent: train[bestJ].intent });
    ownSum += own;
  });
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    accuracy: round(correct / held.length), held_out: held.length, training_phrasings: train.length,
    mean_own_similarity: round(ownSum / held.length),
    by_intent: Object.fromEntries(Object.entries(right).map(([k, [a, n]]) => [k, round(a / n)])),
    misses,
  };
}

if (process.argv[1]?.endsWith("phrasing-coverage.ts")) {
  const out = process.argv.includes("--out") ? process.argv[process.argv.indexOf("--out") + 1] : null;
  const flat = phrasingCoverage(false);
  const withGrammar = phrasingCoverage(true);
  for (const m of withGrammar.misses) console.error(`miss [${m.intent}] "${m.text}" -> [${m.nearest_intent}] "${m.nearest}"`);
  const result = {
    flat: { accuracy: flat.accuracy, mean_own_similarity: flat.mean_own_similarity, training_phrasings: flat.training_phrasings },
    with_grammar: { accuracy: withGrammar.accuracy, mean_own_similarity: withGrammar.mean_own_similarity, training_phrasings: withGrammar.training_phrasings },
    held_out: flat.held_out,
    by_intent: Object.fromEntries(Object.keys(flat.by_intent).map((k) => [k, { flat: flat.by_intent[k], with_grammar: withGrammar.by_intent[k] }])),
  };
  if (out) { mkdirSync(dirname(out), { recursive: true }); writeFileSync(out, JSON.stringify(result, null, 2) + "\n"); }
  console.log(JSON.stringify(result));
}
