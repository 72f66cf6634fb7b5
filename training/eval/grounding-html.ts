import type { QaRecord } from "./grounding.ts";
import { answerMatches } from "./grounding-score.ts";

// The grounding evaluation as a page: the summary, per-type accuracy seeing and blind, and each
// question with its key and both replies.

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function groundingHtml(result: Record<string, unknown>, qa: QaRecord[], seeing: string[], blind: string[]): string {
  const byType = result.by_type as Record<string, number>, blindBy = result.blind_by_type as Record<string, number>;
  const types = Object.keys(byType).sort();
  const bar = (x: number, colour: string) => `<span style="display:inline-block;width:${Math.round(x * 200)}px;height:10px;background:${colour}"></span> ${(x * 100).toFixed(1)}%`;
  const typeRows = types.map((t) => `<tr><td>${esc(t)}</td><td>${bar(byType[t], "#2a7")}</td><td>${bar(blindBy[t] ?? 0, "#aaa")}</td></tr>`).join("\n");
  const rows = qa.map((q, i) => {
    const ok = answerMatches(q.type, q.key, seeing[i]);
    return `<tr class="${ok ? "ok" : "fail"}"><td>${q.view}</td><td>${esc(q.npc)}</td><td>${esc(q.type)}${q.probe ? ` (${esc(q.probe)})` : ""}</td><td>${esc(q.question)}</td>` +
      `<td>${esc(JSON.stringify(q.key))}</td><td>${esc(seeing[i])}</td><td>${esc(blind[i])}</td></tr>`;
  }).join("\n");
  const summary = Object.entries(result).filter(([, v]) => typeof v !== "object" || v === null).map(([k, v]) => `<b>${esc(k)}</b> ${esc(String(v))}`).join(" · ");
  return `<!doctype html><html><head><meta charset="utf-8"><title>grounding evaluation</title><style>
body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
tr.fail td:nth-child(6){color:#b00}tr.ok td:nth-child(6){color:#080}</style></head><body>
<h1>Grounding: ${((result.accuracy as number) * 100).toFixed(1)}% seeing, ${((result.blind_accuracy as number) * 100).toFixed(1)}% blind</h1>
<p>${summary}</p>
<h2>By question type</h2><table><tr><th>type</th><th>seeing</th><th>blind</th></tr>${typeRows}</table>
<h2>Questions</h2>
<table><tr><th>view</th><th>npc</th><th>type</th><th>question</th><th>key</th><th>reply (seeing)</th><th>reply (blind)</th></tr>
${rows}
</table></body></html>
`;
}
