import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseReply } from "../core/prompt/reply.ts";
import { syntheticFacts } from "../training/data/synthetic-facts.ts";
import { loadWorld } from "../training/data/world.ts";

describe("copy probe (npm run eval:copy)", () => {
  it("scores a reply by the made-up words only the prompt holds: the fact's own restatement has them all", () => {
    const probes = syntheticFacts(loadWorld("."), 200, 991);
    const withKeys = probes.filter((p) => p.keys.length > 0);
    expect(withKeys.length).toBeGreaterThan(190);
    for (const p of withKeys) {
      const answer = parseReply(p.sample.completion.replace("<|end|>", "")).text;
      for (const k of p.keys) {
        expect(answer).toContain(k);
        expect(p.sample.say.toLowerCase()).not.toContain(k.toLowerCase());
        expect(p.sample.prompt).toContain(k);
      }
    }
  });

  it("runs the committed model on a few probes and writes JSON and HTML", () => {
    const out = join(mkdtempSync(join(tmpdir(), "copy-")), "probe");
    const stdout = execFileSync("npx", ["tsx", "training/eval/copy-probe.ts", "--samples", "8", "--out", out], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const summary = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(summary.samples).toBeGreaterThan(0);
    for (const run of ["base", "with_character_pack"]) {
      expect(summary[run].all_keys).toBeGreaterThanOrEqual(0);
      expect(summary[run].any_key).toBeGreaterThanOrEqual(summary[run].all_keys);
    }
    const saved = JSON.parse(readFileSync(`${out}.json`, "utf8"));
    expect(saved.probes).toHaveLength(summary.samples);
    expect(typeof saved.probes[0].base).toBe("string");
    expect(existsSync(`${out}.html`)).toBe(true);
  }, 120_000);
});
