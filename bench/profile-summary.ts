// Summarises an onnxruntime profile (written by `npm run bench:inference -- --profile`): for each
// kind of run (batch × seq of the first node's input), the average run time, the time inside
// kernels, and the ops that take it, largest first. Tells where a decode step goes.
//
//   npx tsx bench/profile-summary.ts .cache/bench-models/profile-<model>_<date>.json [top=12]

import { readFileSync } from "node:fs";

interface Ev { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] } }

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: tsx bench/profile-summary.ts <profile.json> [top]");
  process.exit(1);
}
const top = Number(topArg ?? 12);
const events: Ev[] = JSON.parse(readFileSync(file, "utf8"));
const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").sort((a, b) => a.ts - b.ts);
const nodes = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time")).sort((a, b) => a.ts - b.ts);

const groups = new Map<string, { runs: number; runUs: number; kernelUs: number; ops: Map<string, number> }>();
let n = 0;
for (const run of runs) {
  const inRun: Ev[] = [];
  while (n < nodes.length && nodes[n].ts < run.ts) n++;
  let k = n;
  while (k < nodes.length && nodes[k].ts <= run.ts + run.dur) inRun.push(nodes[k++]);
  if (inRun.length === 0) continue;
  const shape = Object.values(inRun[0].args?.input_type_shape?.[0] ?? {})[0] ?? [];
  const key = `batch ${shape[0]} × seq ${shape[1]}`;
  const g = groups.get(key) ?? { runs: 0, runUs: 0, kernelUs: 0, ops: new Map() };
  g.runs++;
  g.runUs += run.dur;
  for (const e of inRun) {
    g.kernelUs += e.dur;
    const op = e.args?.op_name ?? e.name;
    g.ops.set(op, (g.ops.get(op) ?? 0) + e.dur);
  }
  groups.set(key, g);
}
for (const [key, g] of groups) {
  const per = (us: number) => (us / g.runs / 1000).toFixed(2);
  console.log(`${key}: ${g.runs} runs, ${per(g.runUs)} ms/run, ${per(g.kernelUs)} ms in kernels (${((100 * g.kernelUs) / g.runUs).toFixed(0)}%)`);
  const ops = [...g.ops].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [op, us] of ops) console.log(`  ${op.padEnd(34)} ${per(us).padStart(8)} ms  ${((100 * us) / g.kernelUs).toFixed(1).padStart(5)}%`);
}
