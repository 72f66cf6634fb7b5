import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";

// Node side of the adapter suites: random PEFT adapters and PEFT-math reference logits from
// training/peft_ref.py (PyTorch), for random models from training/make_random_model.py.

const run = promisify(execFile);
const PYTHON = "/usr/bin/python3";

export async function makeModel(dir: string, flags: string[]): Promise<void> {
  await run(PYTHON, ["training/make_random_model.py", "--out", dir, ...flags], { maxBuffer: 1 << 24 });
}

/** Writes a PEFT adapter into `out`; `flags` are peft_ref.py write flags. */
export async function writeAdapter(model: string, out: string, flags: string[]): Promise<void> {
  await run(PYTHON, ["training/peft_ref.py", "write", "--model", model, "--out", out, ...flags], { maxBuffer: 1 << 24 });
}

export interface RefCase {
  prompt: number[];
  steps: number;
  adapters: { dir: string; weight: number }[];
}
export interface RefOut {
  tokens: number[];
  logits: number[][]; // [prefill T*V, step 1 V, ...]
}

export async function reference(model: string, cases: RefCase[], work: string): Promise<RefOut[]> {
  writeFileSync(`${work}/cases.json`, JSON.stringify(cases));
  await run(PYTHON, ["training/peft_ref.py", "reference", "--model", model, "--cases", `${work}/cases.json`, "--out", `${work}/ref.json`], { maxBuffer: 1 << 26 });
  return JSON.parse(readFileSync(`${work}/ref.json`, "utf8"));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
