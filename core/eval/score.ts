// Scores of an evaluation run: overall and per tag (a case counts once for each of its tags).

export interface CaseResult {
  id: string;
  tags: string[];
  reply: string;
  fails: string[];
}

export interface SuiteScore {
  cases: number;
  passed: number;
  score: number;
  by_tag: Record<string, number>;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

export function scoreResults(results: CaseResult[]): SuiteScore {
  const tags = new Map<string, [number, number]>();
  let passed = 0;
  for (const r of results) {
    const ok = r.fails.length === 0;
    if (ok) passed++;
    for (const t of r.tags) {
      const e = tags.get(t) ?? [0, 0];
      e[0] += ok ? 1 : 0;
      e[1] += 1;
      tags.set(t, e);
    }
  }
  const by_tag: Record<string, number> = {};
  for (const t of [...tags.keys()].sort()) by_tag[t] = round(tags.get(t)![0] / tags.get(t)![1]);
  return { cases: results.length, passed, score: results.length ? round(passed / results.length) : 0, by_tag };
}
