// The combination gate: rule fallback, the MLP gate pack format, and chooseMixture end to end
// (gate → bank → folded update) with the prompt summary from the real embedding table.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meanEmbedding } from "../core/runtime/gate/features.ts";
import { loadGate, MlpGate, RuleGate } from "../core/runtime/gate/gate.ts";
import { chooseMixture, pruneWeights } from "../core/runtime/gate/mix.ts";
import { baseModelHash } from "../core/runtime/lora/base-hash.ts";
import { AdapterBank } from "../core/runtime/lora/bank.ts";
import type { BaseModelRef } from "../core/runtime/lora/pack.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { loadModelPackage, type ModelPackage } from "../core/runtime/model/package.ts";
import { nodeBankFiles } from "../server/adapters/files.ts";
import { writeSafe } from "./adapter-fixtures-st.ts";
import { makeModel, writeAdapter } from "./adapter-fixtures.ts";

const MOODS = ["mood-calm", "mood-cheerful", "mood-angry", "mood-afraid", "mood-sad"];
const cand = { persona: "brom", moods: MOODS, skills: [] };
const day = { timeOfDay: 12, threat: 0, standing: 0 };
let work: string;
let pkg: ModelPackage;
let base: BaseModelRef;
const H = 32;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "kith-gate-"));
  await makeModel(`${work}/model`, ["--vocab", "300", "--hidden", String(H), "--layers", "2", "--heads", "2", "--kv-heads", "1", "--intermediate", "64", "--seed", "8"]);
  pkg = await loadModelPackage(`${work}/model`, nodePackageFiles);
  base = { config: pkg.config, hash: baseModelHash(pkg) };
  const meta = (kind: string) => ["--kind", kind, "--base-hash", base.hash];
  await Promise.all([
    writeAdapter(`${work}/model`, `${work}/adapters/brom`, ["--seed", "1", "--r", "4", ...meta("character")]),
    writeAdapter(`${work}/model`, `${work}/adapters/mood-angry`, ["--seed", "2", "--r", "2", ...meta("mood")]),
    writeAdapter(`${work}/model`, `${work}/adapters/mood-cheerful`, ["--seed", "3", "--r", "2", ...meta("mood")]),
  ]);
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A gate that reads only `standing`: negative → angry, positive → cheerful. */
function writeGate(dir: string, gateJson: Record<string, unknown> = {}, drop?: string): void {
  mkdirSync(dir, { recursive: true });
  const outputs = ["mood-calm", "mood-angry", "mood-cheerful"];
  writeFileSync(`${dir}/gate.json`, JSON.stringify({ format: "kith-gate-1", hidden: 2, embedding_size: H, game_features: ["time_sin", "time_cos", "threat", "standing"], outputs, temperature: 1, strength: 0.8, ...gateJson }));
  const F = H + 4;
  const w1 = new Float32Array(2 * F);
  w1[0 * F + H + 3] = -1; // h0 = relu(-standing)
  w1[1 * F + H + 3] = 1; //  h1 = relu(standing)
  const w2 = Float32Array.of(0, 0, 8, 0, 0, 8); // calm, angry ← h0, cheerful ← h1
  const t: Record<string, Float32Array> = { w1, b1: new Float32Array(2), w2, b2: new Float32Array(3) };
  if (drop) delete t[drop];
  const shapes: Record<string, number[]> = { w1: [2, F], b1: [2], w2: [3, 2], b2: [3] };
  writeSafe(`${dir}/gate.safetensors`, t, (k) => shapes[k]);
}

describe("rule gate (no trained gate)", () => {
  const g = new RuleGate(0.8);
  const mood = (text: string, state = day, moods = MOODS) => g.decide({ candidates: { ...cand, moods }, state, text });
  it("picks a mood from the line and the game state; the persona always weighs 1", () => {
    expect(mood("Good morning").weights).toEqual({ brom: 1, "mood-calm": 0.8 });
    expect(mood("You're a lazy old fool.").weights).toEqual({ brom: 1, "mood-angry": 0.8 });
    expect(mood("Thanks, that's the finest blade I've seen").weights).toEqual({ brom: 1, "mood-cheerful": 0.8 });
    expect(mood("My brother died last winter").weights).toEqual({ brom: 1, "mood-sad": 0.8 });
    expect(mood("Hello", { ...day, threat: 0.9 }).weights).toEqual({ brom: 1, "mood-afraid": 0.8 });
    expect(mood("Hello", { ...day, standing: -0.7 }).weights).toEqual({ brom: 1, "mood-angry": 0.8 });
    expect(mood("Hello", { ...day, standing: 0.9 }).weights).toEqual({ brom: 1, "mood-cheerful": 0.8 });
  });
  it("only moods the card allows; calm when the pick is not allowed; bad state named", () => {
    expect(mood("you fool", day, ["mood-calm"]).weights).toEqual({ brom: 1, "mood-calm": 0.8 });
    expect(mood("you fool", day, []).weights).toEqual({ brom: 1 });
    expect(() => new MlpGate({ hidden: 1, embeddingSize: 1, outputs: ["x"], temperature: 1, strength: 1 }, new Float32Array(5), new Float32Array(1), new Float32Array(1), new Float32Array(1))
      .decide({ candidates: cand, state: { ...day, timeOfDay: 25 }, promptSummary: new Float32Array(1) })).toThrow(/"timeOfDay" is 25; should be a number in \[0, 24\)/);
  });
});

describe("MLP gate pack", () => {
  it("falls back to the rule gate when adapters/gate/ has no gate.json", async () => {
    expect((await loadGate(`${work}/nogate`, nodePackageFiles, H)).kind).toBe("rules");
  });

  it("softmax over allowed outputs, scaled by strength, from prompt summary + game state", async () => {
    writeGate(`${work}/gate`);
    const g = await loadGate(`${work}/gate`, nodePackageFiles, H);
    expect(g.kind).toBe("mlp");
    const summary = new Float32Array(H);
    const hostile = g.decide({ candidates: cand, state: { ...day, standing: -1 }, promptSummary: summary });
    expect(hostile.weights.brom).toBe(1);
    expect(hostile.weights["mood-angry"]).toBeGreaterThan(0.79);
    const sum = (w: Record<string, number>) => Object.entries(w).filter(([k]) => k !== "brom").reduce((s, [, v]) => s + v, 0);
    expect(sum(hostile.weights)).toBeCloseTo(0.8, 5);
    const friendly = g.decide({ candidates: cand, state: { ...day, standing: 1 }, promptSummary: summary });
    expect(friendly.weights["mood-cheerful"]).toBeGreaterThan(0.79);
    // Not allowed → renormalized over what is.
    const noCheer = g.decide({ candidates: { ...cand, moods: ["mood-calm", "mood-angry"] }, state: { ...day, standing: 1 }, promptSummary: summary });
    expect(noCheer.weights["mood-cheerful"]).toBeUndefined();
    expect(sum(noCheer.weights)).toBeCloseTo(0.8, 5);
  });

  it("a broken gate pack is refused naming the field or tensor", async () => {
    writeGate(`${work}/gate-h`, { embedding_size: 99 });
    await expect(loadGate(`${work}/gate-h`, nodePackageFiles, H)).rejects.toThrow(/gate\.json "embedding_size" is 99 but the base model's hidden size is 32/);
    writeGate(`${work}/gate-w`, {}, "w2");
    await expect(loadGate(`${work}/gate-w`, nodePackageFiles, H)).rejects.toThrow(/gate\.safetensors has no tensor "w2" \(expected shape \[3,2\]\)/);
    writeGate(`${work}/gate-f`, { format: "v0" });
    await expect(loadGate(`${work}/gate-f`, nodePackageFiles, H)).rejects.toThrow(/"format" is "v0"; should be "kith-gate-1"/);
  });
});

describe("chooseMixture", () => {
  it("gate → bank → one folded update of rank persona + moods; missing packs skipped and named", async () => {
    const bank = new AdapterBank({ root: `${work}/adapters`, files: nodeBankFiles, base });
    const session = { embed: (ids: Int32Array | number[]) => { const out = new Float32Array(ids.length * H); ids.forEach((id, i) => out.set(pkg.weights.get("model.embed_tokens.weight").data.subarray(id * H, (id + 1) * H), i * H)); return out; } };
    writeGate(`${work}/gate`);
    const gate = await loadGate(`${work}/gate`, nodePackageFiles, H);
    const c = await chooseMixture(bank, gate, session, { candidates: cand, state: { ...day, standing: -1 }, promptIds: [5, 6, 7, 8] });
    expect(c.decision.source).toBe("mlp");
    expect(c.lora!.weights.brom).toBe(1);
    // Folded: brom (r4) + each kept mood with a pack (r2); mood-calm has no pack here.
    const kept = Object.keys(pruneWeights(c.decision.weights, "brom")).filter((id) => id !== "brom");
    expect(kept.length).toBeGreaterThan(0);
    expect(c.lora!.layers[0].q!.rank).toBe(4 + 2 * kept.filter((id) => id !== "mood-calm").length);
    expect(c.skipped.map((s) => s.id)).toEqual(kept.filter((id) => id === "mood-calm"));
    for (const s of c.skipped) expect(s.error).toMatch(/adapter_config\.json is missing/);
    expect(c.summaryMs).toBeGreaterThanOrEqual(0);
    const rules = await chooseMixture(bank, new RuleGate(), session, { candidates: cand, state: day, promptIds: [5], text: "well done, you have a good heart!" });
    expect(Object.keys(rules.lora!.weights).sort()).toEqual(["brom", "mood-cheerful"]);
  });

  it("leaves out moods under a tenth of the mood weight and keeps the mood total", () => {
    const w = pruneWeights({ brom: 1, "mood-calm": 0.7, "mood-angry": 0.07, "mood-sad": 0.03 }, "brom");
    expect(Object.keys(w).sort()).toEqual(["brom", "mood-calm"]);
    expect(w.brom).toBe(1);
    expect(w["mood-calm"]).toBeCloseTo(0.8, 6);
    const two = pruneWeights({ brom: 1, "mood-calm": 0.4, "mood-angry": 0.3, "mood-sad": 0.05, "mood-afraid": 0 }, "brom");
    expect(Object.keys(two).sort()).toEqual(["brom", "mood-angry", "mood-calm"]);
    expect(two["mood-calm"] + two["mood-angry"]).toBeCloseTo(0.75, 6);
    expect(two["mood-calm"] / two["mood-angry"]).toBeCloseTo(4 / 3, 6);
    // No persona, or nothing to prune: unchanged.
    expect(pruneWeights({ "mood-calm": 0.5, "mood-sad": 0.3 }, null)).toEqual({ "mood-calm": 0.5, "mood-sad": 0.3 });
    expect(pruneWeights({ brom: 1, "mood-calm": 0.01 }, "brom", 0)).toEqual({ brom: 1, "mood-calm": 0.01 });
  });

  it("prompt summary is the mean of the token embeddings", () => {
    const e = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect([...meanEmbedding(e, 3)]).toEqual([3, 4]);
    expect(() => meanEmbedding(new Float32Array(0), 0)).toThrow(/at least one token/);
  });
});
