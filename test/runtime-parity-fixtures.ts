import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import type { Reference } from "./runtime-parity-check.ts";

export * from "./runtime-parity-check.ts";

// Node side of the parity suites: random models made by training/make_random_model.py (PyTorch)
// and their reference logits.

const run = promisify(execFile);
export const PYTHON = "/usr/bin/python3";

export const PROMPTS = "5,6,7,8,9,10,11;40,41;100,3,200,17,18,19,20,21,22,23";

/** Write a random model + reference.json into `dir`; `flags` are make_random_model.py flags. */
export async function makeRandomModel(dir: string, flags: string[], steps = 20): Promise<Reference> {
  await run(PYTHON, ["training/make_random_model.py", "--out", dir, "--prompts", PROMPTS, "--steps", String(steps), "--reference", `${dir}/reference.json`, ...flags], {
    maxBuffer: 1 << 24,
  });
  return JSON.parse(readFileSync(`${dir}/reference.json`, "utf8"));
}

