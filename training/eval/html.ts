import type { SuiteScore } from "../../core/eval/score.ts";
import type { EvalCase } from "../../core/eval/case.ts";
import type { RunResult } from "./run-suite.ts";

// A self-contained HTML table of one suite's results: case, player line, checks, reply, verdict.

export const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function resultsHtml(suite: string, model: string, cases: EvalCase[], results: RunResult[], score: SuiteScore): string {
  const byId = new Map(cases.map((c) => [c.id, c]));
  const rows = results.map((r) => {
    const c = byId.get(r.id)!;
    const ok = r.fails.length === 0;
    return `<tr class="${ok ? "ok" : "fail"}"><td>${esc(r.id)}</td><td>${esc(c.npc)}</td><td>${esc(c.say)}</td>` +
      `<td><code>${esc(JSON.stringify(c.checks))}</code></td><td>${esc(r.reply)}</td>` +
      `<td>${ok ? "pass" : esc(r.fails.join("; "))}</td><td>${esc(c.tags.join(" "))}</td></tr>`;
  }).join("\n");
  const tags = Object.entries(score.by_tag).map(([t, s]) => `${esc(t)}: ${s.toFixed(2)}`).join(" · ");
  return `<!doctype html><html><head><meta charset="utf-8"><title>eval ${esc(suite)}</title><style>
body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
tr.ok td:nth-child(6){color:#080}tr.fail td:nth-child(6){color:#b00}code{font-size:11px}</style></head><body>
<h1>${esc(suite)}: ${score.passed}/${score.cases} (${(score.score * 100).toFixed(1)}%)</h1>
<p>model: ${esc(model)}</p><p>${tags}</p>
<table><tr><th>case</th><th>npc</th><th>player</th><th>checks</th><th>reply</th><th>verdict</th><th>tags</th></tr>
${rows}
</table></body></html>
`;
}
