import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseReply } from "../../core/prompt/reply.ts";
import { nodeBackend } from "../../core/runtime/backend-node.ts";
import { LanguageModel } from "../../core/runtime/index.ts";
import { AdapterBank } from "../../core/runtime/lora/bank.ts";
import { baseModelHash } from "../../core/runtime/lora/base-hash.ts";
import { foldMixture } from "../../core/runtime/lora/mixture.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../../core/runtime/model/package.ts";
import { Scheduler } from "../../core/runtime/scheduler/scheduler.ts";
import { DecoderSession } from "../../core/runtime/session.ts";
import { nodeBankFiles } from "../../server/adapters/files.ts";
import { syntheticFacts } from "../data/synthetic-facts.ts";
import { loadWorld } from "../data/world.ts";
import { esc } from "./html.ts";

// npm run eval:copy -- [--model assets/model] [--adapters adapters|none] [--samples 200] [--seed 991]
//   [--out training/results/copy-probe]
// Does the model answer from the facts in its prompt? Each probe gives an NPC one made-up fact
// (training/data/synthetic-facts.ts: random names, numbers, goods and places), in the game's
// prompt where retrieval puts it first, and asks about it. A reply that names every random part
// the question does not (`keys`) was copied from the prompt: no training data holds them. Runs
// the base alone and with the NPC's character pack (the persona term of the game's mixture),
// greedy. Last stdout line: one JSON object; also <out>.json and <out>.html (every probe).

const USAGE = "usage: npm run eval:copy -- [--model DIR] [--adapters DIR|none] [--samples N] [--seed N] [--out PREFIX]";

function parseArgs(argv: string[]) {
  const a = { model: "assets/model", adapters: "adapters", samples: 200, seed: 991, out: "training/results/copy-probe" };
  for (let i = 0; i < argv.length; i += 2) {
    const f = argv[i], v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${f} needs a value\n${USAGE}`);
    const num = () => { const n = Number(v); if (!Number.isInteger(n) || n < 1) throw new Error(`${f} needs a positive integer, got ${v}`); return n; };
    if (f === "--model") a.model = v;
    else if (f === "--adapters") a.adapters = v;
    else if (f === "--samples") a.samples = num();
    else if (f === "--seed") a.seed = num();
    else if (f === "--out") a.out = v;
    else throw new Error(`unknown option "${f}"\n${USAGE}`);
  }
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const world = loadWorld(".");
  const probes = syntheticFacts(world, a.samples, a.seed).filter((p) => p.keys.length > 0);
  const pkg = await loadModelPackage(a.model, nodePackageFiles);
  const session = await DecoderSession.create(pkg, nodeBackend(), { cacheDir: ".cache/graphs" });
  const model = LanguageModel.fromSession(session, pkg);
  const bank = a.adapters === "none" ? null : new AdapterBank({ root: a.adapters, files: nodeBankFiles, base: { config: pkg.config, hash: baseModelHash(pkg), name: a.model } });
  const characterOf = (npc: string) => world.npcs.find((n) => n.id === npc)!.character;
  const runs: { label: string; packs: boolean }[] = [{ label: "base", packs: false }, ...(bank ? [{ label: "with_character_pack", packs: true }] : [])];
  const replies: Record<string, string[]> = {};
  const summary: Record<string, unknown> = { samples: probes.length, seed: a.seed, model: a.model };
  const t0 = performance.now();
  for (const run of runs) {
    const sched = new Scheduler(model, { maxBatch: 16, maxQueue: probes.length + 1 });
    let done = 0;
    const texts = await Promise.all(probes.map(async (p) => {
      const lora = run.packs ? foldMixture([{ pack: await bank!.get(characterOf(p.sample.npc)), weight: 1 }]) : null;
      const r = await sched.submit({ prompt: model.encodePrompt(p.sample.prompt), options: { maxNewTokens: 48, doSample: false }, lora }).result;
      if (++done % 32 === 0) {
        const el = (performance.now() - t0) / 1000, all = probes.length * runs.length, at = runs.indexOf(run) * probes.length + done;
        process.stderr.write(`copy probe: ${run.label} ${done}/${probes.length}, ${el.toFixed(0)} s, ETA ${((el / at) * (all - at)).toFixed(0)} s\n`);
      }
      return parseReply(r.text).text;
    }));
    await sched.close();
    replies[run.label] = texts;
    const all = probes.filter((p, i) => p.keys.every((k) => texts[i].includes(k))).length;
    const any = probes.filter((p, i) => p.keys.some((k) => texts[i].includes(k))).length;
    summary[run.label] = { all_keys: round(all / probes.length), any_key: round(any / probes.length) };
  }
  await session.release();
  mkdirSync(dirname(a.out), { recursive: true });
  writeFileSync(`${a.out}.json`, JSON.stringify({ ...summary, probes: probes.map((p, i) => ({ npc: p.sample.npc, fact: p.fact, say: p.sample.say, keys: p.keys, ...Object.fromEntries(runs.map((r) => [r.label, replies[r.label][i]])) })) }, null, 1));
  const rows = probes.map((p, i) => `<tr><td>${esc(p.sample.npc)}</td><td>${esc(p.fact)}</td><td>${esc(p.sample.say)}</td><td>${esc(p.keys.join(", "))}</td>` +
    runs.map((r) => { const t = replies[r.label][i]; const ok = p.keys.every((k) => t.includes(k)); return `<td class="${ok ? "ok" : "no"}">${esc(t)}</td>`; }).join("") + "</tr>").join("\n");
  writeFileSync(`${a.out}.html`, `<!doctype html><meta charset="utf-8"><title>Copy probe</title>
<style>body{font:14px sans-serif;margin:1em}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}table{border-collapse:collapse}.ok{background:#dfd}.no{background:#fdd}</style>
<h1>Copy probe: made-up facts in the prompt</h1><p>${esc(JSON.stringify(summary))}</p>
<table><tr><th>npc</th><th>fact in the prompt</th><th>player</th><th>words only the prompt holds</th>${runs.map((r) => `<th>${esc(r.label)}</th>`).join("")}</tr>
${rows}</table>`);
  process.stderr.write(`copy probe: wrote ${a.out}.json and ${a.out}.html\n`);
  console.log(JSON.stringify(summary));
}

const round = (x: number) => Math.round(x * 10000) / 10000;

main().catch((e) => { console.error(`eval:copy: ${(e as Error).message}`); process.exit(1); });
