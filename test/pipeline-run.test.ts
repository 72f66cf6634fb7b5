// `npm run pipeline` end to end on tiny settings (800 samples, one minute, a 2-layer base): scene and cards in, a servable model package,
// character and mood packs for that model, a trained gate and the evaluation out (real data engine,
// tokenizer, PyTorch training, export, onnxruntime evaluation).
import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdapterBank } from "../core/runtime/lora/bank.ts";
import { baseModelHash } from "../core/runtime/lora/base-hash.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../core/runtime/model/package.ts";
import { nodeBankFiles } from "../server/adapters/files.ts";

const out = mkdtempSync(join(tmpdir(), "kith-pipeline-run-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("npm run pipeline", () => {
  it("turns the village's scene and cards into a model, packs for it, a gate and an evaluation", async () => {
    const stdout = execFileSync(join("node_modules", ".bin", "tsx"), ["training/pipeline.ts", "--out", out, "--minutes", "1", "--samples", "800", "--seed", "3", "--base-voice", "neutral", "--layers", "2"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
    const summary = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(summary).toEqual(JSON.parse(readFileSync(join(out, "pipeline.json"), "utf8")));
    expect(summary.characters).toEqual(["brom", "mira", "aldric", "hilde", "wen"]);
    expect(summary.moods).toEqual(expect.arrayContaining(["mood-calm", "mood-angry", "mood-cheerful", "mood-afraid", "mood-sad"]));
    // The base trained on the cards' plain twins (--base-voice neutral), the packs on their own voices.
    expect(summary.base_voice).toBe("neutral");
    expect(JSON.parse(readFileSync(join(out, "data", "neutral", "summary.json"), "utf8"))).toMatchObject({ voice: "neutral", samples: 800 });
    expect(JSON.parse(readFileSync(join(out, "data", "summary.json"), "utf8"))).toMatchObject({ voice: "card", samples: 800 });
    expect(JSON.parse(readFileSync(join(out, "data", "neutral", "train.meta.json"), "utf8")).source).toBe(join(out, "data", "neutral", "train.jsonl"));
    expect(Object.keys(summary.stage_seconds)).toEqual(["data", "tokenizer", "tokenize", "base model", "export", "character packs", "mood packs", "gate", "evaluation"]);

    // The model loads, and every pack is for it: the bank's base-hash check passes for each.
    const pkg = await loadModelPackage(join(out, "model"), nodePackageFiles);
    expect(pkg.config.numLayers).toBe(2); // --layers 2: tiny settings, so the run stays short
    expect(summary.layers).toBe(2);
    const hash = await baseModelHash(pkg);
    const meta = JSON.parse(readFileSync(join(out, "model", "training_meta.json"), "utf8"));
    expect(meta.lineage.at(-1).run).toBe("pipeline-village-seed3");
    const bank = new AdapterBank({ root: join(out, "adapters"), files: nodeBankFiles, base: { config: pkg.config, hash, name: "pipeline" } });
    for (const id of [...summary.characters, ...summary.moods]) {
      const pack = await bank.get(id);
      expect(pack.meta.baseModel?.hash).toBe(hash);
    }
    expect(existsSync(join(out, "adapters", "gate", "gate.json"))).toBe(true);

    // The evaluation ran on the held-out suites this run wrote, through the packs and the trained gate.
    expect(summary.evaluation.adapters).toMatchObject({ gate: "mlp", refused: [] });
    expect(summary.evaluation.adapters.packs).toHaveLength(10);
    expect(Object.keys(summary.evaluation.suites).sort()).toEqual(["actions", "injection", "mood", "persona", "trading", "villagers_places"]);
    expect(summary.evaluation.heldout_perplexity.perplexity).toBeGreaterThan(1);
    expect(summary.serve).toBe(`KITH_MODEL=${join(out, "model")} KITH_ADAPTERS=${join(out, "adapters")} npm start`);
  }, 600_000);
});
