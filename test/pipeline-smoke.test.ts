import { describe, expect, it } from "vitest";
import { existsSync, rmSync } from "node:fs";
import { pipelineSmoke } from "../training/pipeline-smoke.ts";
import { hasTorch } from "./python.ts";

// The whole training pipeline on tiny settings (a few minutes on 2 cores). Needs python3-torch
// (scripts/setup.sh --test installs it).
describe("pipeline smoke", () => {
  it.skipIf(!hasTorch())("data → tokenizer → tokenize → train → export → runtime → eval", async () => {
    const r = await pipelineSmoke({ log: () => {} });
    try {
      expect(r.data.train).toBeGreaterThan(1500);
      expect(r.data.heldout).toBeGreaterThan(50);
      expect(r.tokens.train).toBeGreaterThan(r.data.train * 100); // prompts are hundreds of tokens
      expect(r.loss.last).toBeLessThan(r.loss.first - 0.5);
      expect(r.loss.val_last).toBeLessThan(r.loss.val_first);
      expect(r.export.bytes).toBeGreaterThan(100_000);
      // --init_from the exported folder starts from exactly the exported weights.
      expect(Math.abs(r.finetune.val_at_start - r.finetune.exported_val)).toBeLessThan(1e-4);
      // Grown by a layer on top: it starts as exactly the exported model; another width is refused.
      expect(r.finetune.grown.said).toMatch(/1 layers added on top, each starting as the identity/);
      expect(Math.abs(r.finetune.grown.val_at_start - r.finetune.exported_val)).toBeLessThan(1e-4);
      expect(r.finetune.wider.status).not.toBe(0);
      expect(r.finetune.wider.stderr).toMatch(/only more layers than the source can be grown/);
      // Its export names both runs, oldest first, and adds up their tokens.
      expect(r.finetune.lineage.map((e) => [e.run, e.steps])).toEqual([["out", 30], ["finetune", 2]]);
      expect(r.finetune.lineage[1].note).toBe("smoke fine-tune");
      expect(r.finetune.total_tokens_seen).toBe(r.finetune.lineage[0].tokens_seen + r.finetune.lineage[1].tokens_seen);
      expect(r.finetune.lineage[1].tokens_seen).toBeGreaterThan(0);
      // A corrupt training_meta.json in the init folder: one clear line, the export still made.
      expect(r.finetune.corruptInit.stderr).toMatch(/training_meta\.json is unreadable .*the lineage starts at this run/);
      expect(r.finetune.corruptInit.lineage.map((e) => e.run)).toEqual(["finetune"]);
      expect(r.generated.tokens).toBeGreaterThan(0);
      expect(["stop", "length"]).toContain(r.generated.finishReason);
      expect(r.parity.positions).toBeGreaterThan(10);
      expect(r.parity.vocab).toBe(512);
      expect(r.parity.maxAbsDiff).toBeLessThan(1e-4);
      expect(r.eval.cases).toBe(5);
      expect(r.eval.score).toBeGreaterThanOrEqual(0);
    } finally {
      rmSync(r.dir, { recursive: true, force: true });
    }
    expect(existsSync(r.dir)).toBe(false);
  }, 900_000);
});
