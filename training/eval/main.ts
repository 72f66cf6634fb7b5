import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { scoreResults } from "../../core/eval/score.ts";
import { loadModel } from "../../core/runtime/index.ts";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { readSuite, runSuite, suiteName } from "./run-suite.ts";
import { resultsHtml } from "./html.ts";

// npm run eval -- --suite evals/persona.jsonl [--model assets/model] [--limit N] [--sample --seed S]
//   [--batch 16] [--html training/results/eval-<suite>.html] [--threads T]
// One line per failed case (id, reply, failed checks); the LAST stdout line is
// {"cases", "passed", "score", "by_tag"}. Progress with ETA on stderr.

const USAGE = "usage: npm run eval -- --suite <file.jsonl> [--model assets/model] [--limit N] [--sample --seed S] [--batch 16] [--html FILE] [--threads T]";

function parseArgs(argv: string[]) {
  const a = { suite: "", model: "assets/model", limit: 0, sample: false, seed: 0, batch: 16, html: "", threads: 0 };
  const int = (flag: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}, got ${v ?? "nothing"}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === "--sample") { a.sample = true; continue; }
    const v = argv[++i];
    if (f === "--suite" || f === "--model" || f === "--html") {
      if (!v || v.startsWith("--")) throw new Error(`${f} needs a value\n${USAGE}`);
      a[f.slice(2) as "suite" | "model" | "html"] = v;
    } else if (f === "--limit") a.limit = int(f, v, 1);
    else if (f === "--seed") a.seed = int(f, v, 0);
    else if (f === "--batch") a.batch = int(f, v, 1);
    else if (f === "--threads") a.threads = int(f, v, 1);
    else throw new Error(`unknown option "${f}"\n${USAGE}`);
  }
  if (!a.suite) throw new Error(`--suite is required\n${USAGE}`);
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  let cases = readSuite(a.suite);
  if (a.limit) cases = cases.slice(0, a.limit);
  const model = await loadModel(a.model, { backend: nodeBackend(a.threads ? { threads: a.threads } : {}), files: nodePackageFiles, cacheDir: ".cache/graphs" });
  const results = await runSuite(model, cases, { root: process.cwd(), batch: a.batch, sample: a.sample ? { seed: a.seed } : undefined });
  await model.release();
  for (const r of results) if (r.fails.length) console.log(`FAIL ${r.id}: ${JSON.stringify(r.reply)} — ${r.fails.join("; ")}`);
  const score = scoreResults(results);
  const name = suiteName(a.suite);
  const html = a.html || `training/results/eval-${name}.html`;
  mkdirSync(dirname(html), { recursive: true });
  writeFileSync(html, resultsHtml(name, a.model, cases, results, score));
  process.stderr.write(`eval: wrote ${html}\n`);
  console.log(JSON.stringify(score));
}

main().catch((e) => { console.error(`eval: ${(e as Error).message}`); process.exit(1); });
