import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LanguageModel } from "../core/runtime/index.ts";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { DecoderSession } from "../core/runtime/session.ts";
import { scoreResults, type SuiteScore } from "../core/eval/score.ts";
import { readSuite, runSuite } from "./eval/run-suite.ts";

// The whole training pipeline on tiny settings in a temp dir, each stage checked:
// data engine (2k samples) → tokenizer (vocab 512) → tokenize → train_base (30 steps, tiny model)
// → export → runtime load → generate → runtime logits vs PyTorch on one prompt → eval on 5 cases.
//   npm run pipeline:smoke [-- --keep]     last stdout line: JSON summary of every stage.

export const PYTHON = process.env.KITH_PYTHON ?? "/usr/bin/python3";

/** One run of training_meta.json's lineage (the fields the smoke reads). */
type LineageRun = { run: string; steps: number; tokens_seen: number; note?: string };

export interface SmokeResult {
  dir: string;
  seconds: Record<string, number>;
  data: { train: number; heldout: number };
  tokens: { train: number; heldout: number };
  loss: { first: number; last: number; val_first: number; val_last: number };
  export: { files: string[]; bytes: number };
  /** A 2-step fine-tune from the exported folder (--init_from): its first held-out loss and the export's last. */
  finetune: {
    val_at_start: number; exported_val: number;
    grown: { val_at_start: number; said: string }; wider: { status: number | null; stderr: string };
    /** The fine-tune's export: its lineage (the smoke run, then the fine-tune) and their tokens. */
    lineage: LineageRun[]; total_tokens_seen: number;
    /** The same export when the init folder's training_meta.json is corrupt: its lineage and stderr. */
    corruptInit: { lineage: LineageRun[]; stderr: string };
  };
  generated: { text: string; tokens: number; finishReason: string };
  parity: { maxAbsDiff: number; positions: number; vocab: number };
  eval: SuiteScore;
}

function run(cmd: string, args: string[], log: (l: string) => void): string {
  log(`$ ${cmd} ${args.join(" ")}`);
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${(err.stderr ?? "").slice(-2000)}${(err.stdout ?? "").slice(-1000)}`);
  }
}

const lines = (f: string) => readFileSync(f, "utf8").split("\n").filter(Boolean).length;

export async function pipelineSmoke(opts: { dir?: string; log?: (l: string) => void } = {}): Promise<SmokeResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "kith-pipeline-"));
  const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
  const seconds: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => { seconds[name] = Math.round(performance.now() - t) / 1000; t = performance.now(); log(`stage ${name}: ${seconds[name]} s`); };

  run(tsx, ["training/data/main.ts", "--out", dir, "--samples", "2000", "--seed", "3", "--evals", join(dir, "evals"), "--eval-per-suite", "5", "--phrase-grammar", "0.5"], log);
  const data = { train: lines(join(dir, "train.jsonl")), heldout: lines(join(dir, "heldout.jsonl")) };
  lap("data");
  run(tsx, ["training/tokenizer/main.ts", "--corpus", join(dir, "train.jsonl"), "--out", join(dir, "tokenizer"), "--vocab", "512", "--max-samples", "2000"], log);
  lap("tokenizer");
  const tokens = { train: 0, heldout: 0 };
  for (const split of ["train", "heldout"] as const) {
    const out = run(tsx, ["training/tokenizer/encode-corpus.ts", "--tokenizer", join(dir, "tokenizer", "tokenizer.json"), "--in", join(dir, `${split}.jsonl`), "--out", join(dir, split)], log);
    tokens[split] = JSON.parse(out.trim().split("\n").pop()!).tokens;
  }
  lap("tokenize");
  const outDir = join(dir, "out");
  run(PYTHON, ["training/train_base.py", `--train_data=${join(dir, "train")}`, `--val_data=${join(dir, "heldout")}`, `--out_dir=${outDir}`,
    "--vocab_size=512", "--hidden_size=64", "--num_layers=2", "--num_heads=4", "--num_kv_heads=2", "--intermediate_size=128",
    "--batch_size=4", "--max_steps=30", "--warmup_steps=5", "--lr=3e-3", "--eval_every=30", "--eval_samples=8", "--log_every=1", "--threads=1"], log);
  const hist = (JSON.parse(readFileSync(join(outDir, "loss.json"), "utf8")) as { history: { train_loss?: number; val_loss?: number }[] }).history;
  const tl = hist.filter((h) => h.train_loss !== undefined).map((h) => h.train_loss!);
  const vl = hist.filter((h) => h.val_loss !== undefined).map((h) => h.val_loss!);
  const loss = { first: tl[0], last: tl[tl.length - 1], val_first: vl[0], val_last: vl[vl.length - 1] };
  lap("train");
  const modelDir = join(dir, "model");
  run(PYTHON, ["training/export.py", "--ckpt", join(outDir, "ckpt.pt"), "--out", modelDir, "--tokenizer", join(dir, "tokenizer"), "--data", dir], log);
  const files = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json", "training_meta.json"];
  for (const f of files) if (!existsSync(join(modelDir, f))) throw new Error(`export: ${f} missing`);
  const exported = { files, bytes: files.reduce((s, f) => s + statSync(join(modelDir, f)).size, 0) };
  lap("export");

  // A fine-tune starts from the exported folder: its first held-out loss is the export's last.
  const ftDir = join(dir, "finetune");
  run(PYTHON, ["training/train_base.py", `--init_from=${modelDir}`, `--train_data=${join(dir, "train")}`, `--val_data=${join(dir, "heldout")}`, `--out_dir=${ftDir}`,
    "--vocab_size=512", "--hidden_size=64", "--num_layers=2", "--num_heads=4", "--num_kv_heads=2", "--intermediate_size=128",
    "--batch_size=4", "--max_steps=2", "--warmup_steps=1", "--lr=1e-3", "--eval_every=2", "--eval_samples=8", "--log_every=1", "--threads=1"], log);
  const ftHist = (JSON.parse(readFileSync(join(ftDir, "loss.json"), "utf8")) as { history: { val_loss?: number }[] }).history;
  // Its export lists both runs in the lineage.
  const ftModelDir = join(dir, "model-ft");
  run(PYTHON, ["training/export.py", "--ckpt", join(ftDir, "ckpt.pt"), "--out", ftModelDir, "--tokenizer", join(dir, "tokenizer"), "--data", dir, "--note", "smoke fine-tune"], log);
  const readMeta = (d: string) => JSON.parse(readFileSync(join(d, "training_meta.json"), "utf8")) as { lineage: LineageRun[]; total_tokens_seen: number };
  const ftMeta = readMeta(ftModelDir);
  // A corrupt training_meta.json in the init folder: the export still happens, says so, and the
  // lineage starts at the fine-tune.
  const goodMeta = readFileSync(join(modelDir, "training_meta.json"), "utf8");
  writeFileSync(join(modelDir, "training_meta.json"), "{ not json");
  const corrupt = spawnSync(PYTHON, ["training/export.py", "--ckpt", join(ftDir, "ckpt.pt"), "--out", join(dir, "model-ft2"), "--tokenizer", join(dir, "tokenizer"), "--data", dir], { encoding: "utf8" });
  writeFileSync(join(modelDir, "training_meta.json"), goodMeta);
  if (corrupt.status !== 0) throw new Error(`export with a corrupt init meta failed: ${corrupt.stderr}`);
  // Grown: a third layer on top of the exported two starts as the identity, so the first held-out
  // loss is again the export's; a run whose width differs is refused with a clear line.
  const grownDir = join(dir, "grown");
  const tiny = (layers: number, hidden: number, out: string) => ["training/train_base.py", `--init_from=${modelDir}`, `--train_data=${join(dir, "train")}`, `--val_data=${join(dir, "heldout")}`, `--out_dir=${out}`,
    "--vocab_size=512", `--hidden_size=${hidden}`, `--num_layers=${layers}`, "--num_heads=4", "--num_kv_heads=2", "--intermediate_size=128",
    "--batch_size=4", "--max_steps=1", "--warmup_steps=1", "--lr=1e-3", "--eval_every=1", "--eval_samples=8", "--log_every=1", "--threads=1"];
  const grownLog = run(PYTHON, tiny(3, 64, grownDir), log);
  const grownHist = (JSON.parse(readFileSync(join(grownDir, "loss.json"), "utf8")) as { history: { val_loss?: number }[] }).history;
  const wider = spawnSync(PYTHON, tiny(2, 96, join(dir, "wider")), { encoding: "utf8" });
  const finetune = {
    grown: { val_at_start: grownHist.find((h) => h.val_loss !== undefined)!.val_loss!, said: grownLog.split("\n").find((l) => l.startsWith("weights from")) ?? "" },
    wider: { status: wider.status, stderr: wider.stderr },
    val_at_start: ftHist.find((h) => h.val_loss !== undefined)!.val_loss!, exported_val: loss.val_last,
    lineage: ftMeta.lineage, total_tokens_seen: ftMeta.total_tokens_seen,
    corruptInit: { lineage: readMeta(join(dir, "model-ft2")).lineage, stderr: corrupt.stderr },
  };
  lap("finetune");

  const pkg = await loadModelPackage(modelDir, nodePackageFiles);
  const session = await DecoderSession.create(pkg, nodeBackend({ threads: 1 }));
  const model = LanguageModel.fromSession(session, pkg);
  // The shortest held-out prompt: with a 512-token vocabulary some prompts exceed the context.
  const promptText = readFileSync(join(dir, "heldout.jsonl"), "utf8").split("\n").filter(Boolean)
    .map((l) => (JSON.parse(l) as { prompt: string }).prompt).reduce((a, b) => (b.length < a.length ? b : a));
  const gen = await model.generate(promptText, { maxNewTokens: 24 });
  const generated = { text: gen.text, tokens: gen.tokenIds.length, finishReason: gen.finishReason };
  lap("generate");

  // Parity: runtime logits (all positions) vs PyTorch on the same exported weights.
  const ids = model.encodePrompt(promptText).slice(0, 64);
  run(PYTHON, ["training/torch_logits.py", "--model", modelDir, "--ids", ids.join(","), "--out", join(dir, "torch_logits.json")], log);
  const ref = JSON.parse(readFileSync(join(dir, "torch_logits.json"), "utf8")) as { logits: number[]; vocab: number };
  const { logits } = await session.forward({
    inputsEmbeds: session.embed(ids), batch: 1, seqLen: ids.length, positionIds: BigInt64Array.from(ids.map((_, i) => BigInt(i))),
    attentionMask: new BigInt64Array(ids.length).fill(1n), past: null, logits: "all",
  });
  if (logits.length !== ref.logits.length) throw new Error(`parity: runtime gave ${logits.length} logits, PyTorch ${ref.logits.length}`);
  let maxAbsDiff = 0;
  for (let i = 0; i < logits.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(logits[i] - ref.logits[i]));
  const parity = { maxAbsDiff, positions: ids.length, vocab: ref.vocab };
  lap("parity");

  const cases = readSuite(join(dir, "evals", "persona.jsonl")).slice(0, 5);
  const results = await runSuite(model, cases, { root: process.cwd(), batch: 5, maxNewTokens: 24, progress: log });
  await model.release();
  lap("eval");
  return { dir, seconds, data, tokens, loss, export: exported, finetune, generated, parity, eval: scoreResults(results) };
}

if (process.argv[1] && /pipeline-smoke\.ts$/.test(process.argv[1])) {
  const keep = process.argv.includes("--keep");
  const t0 = performance.now();
  pipelineSmoke().then((r) => {
    if (!keep) rmSync(r.dir, { recursive: true, force: true });
    console.log(JSON.stringify({ ...r, total_seconds: Math.round(performance.now() - t0) / 1000, kept: keep }));
  }).catch((e) => { console.error(`pipeline:smoke: ${(e as Error).message}`); process.exit(1); });
}
