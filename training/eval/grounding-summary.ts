import type { QaRecord } from "./grounding.ts";
import { answerMatches, chair, chanceOf, pope, polarity } from "./grounding-score.ts";

// The grounding figures of one run of questions, seeing and blind: accuracy per type, chance,
// CHAIR on "what do you see?" and POPE on the yes/no probes. Both answer paths (the eyes and the
// scene graph, training/eval/grounding.ts) report through it, so their numbers compare.

const r4 = (x: number) => Math.round(x * 10000) / 10000;

/** `visible[view]`: the "colour kind" labels in view (CHAIR's truth). */
export function groundingFigures(qa: readonly QaRecord[], seeing: readonly string[], blind: readonly string[], visible: readonly string[][]) {
  const score = (texts: readonly string[]) => {
    const byType: Record<string, { n: number; ok: number }> = {};
    let ok = 0;
    qa.forEach((q, i) => {
      const hit = answerMatches(q.type, q.key, texts[i]);
      byType[q.type] ??= { n: 0, ok: 0 };
      byType[q.type].n++;
      if (hit) { byType[q.type].ok++; ok++; }
    });
    return { accuracy: ok / qa.length, by_type: Object.fromEntries(Object.entries(byType).map(([t, v]) => [t, r4(v.ok / v.n)])) };
  };
  const s = score(seeing), b = score(blind);
  const see = qa.map((q, i) => ({ q, i })).filter(({ q }) => q.type === "what_see");
  const ch = chair(see.map(({ q, i }) => ({ text: seeing[i], visible: visible[q.view] ?? [] })));
  const probes = qa.map((q, i) => ({ q, i })).filter(({ q }) => q.type === "pope");
  const popeAll = pope(probes.map(({ q, i }) => ({ truth: q.key as "yes" | "no", said: polarity(seeing[i]) })));
  const byProbe: Record<string, ReturnType<typeof pope>> = {};
  for (const kind of new Set(probes.map(({ q }) => q.probe ?? "random"))) {
    byProbe[kind] = pope(probes.filter(({ q }) => (q.probe ?? "random") === kind).map(({ q, i }) => ({ truth: q.key as "yes" | "no", said: polarity(seeing[i]) })));
  }
  const chance = qa.reduce((acc, q) => acc + chanceOf(q.type, q.key), 0) / qa.length;
  return {
    accuracy: r4(s.accuracy), by_type: s.by_type, blind_accuracy: r4(b.accuracy), blind_by_type: b.by_type, chance: r4(chance),
    chair_i: r4(ch.chair_i), chair_s: r4(ch.chair_s), chair_mentions: ch.mentions,
    pope_f1: r4(popeAll.f1), pope_yes_ratio: r4(popeAll.yes_ratio), pope_accuracy: r4(popeAll.accuracy),
    pope_by_probe: Object.fromEntries(Object.entries(byProbe).map(([k, v]) => [k, { f1: r4(v.f1), yes_ratio: r4(v.yes_ratio), accuracy: r4(v.accuracy), n: v.n }])),
  };
}
