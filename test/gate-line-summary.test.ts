// The gate's "prompt+line" summary: the whole-prompt mean embedding followed by the mean embedding of
// the player's last line (the trained gate uses it: an insult is a few tokens of a prompt of hundreds).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meanEmbedding } from "../core/runtime/gate/features.ts";
import { lastLineIds, loadGate, MlpGate } from "../core/runtime/gate/gate.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { writeSafe } from "./adapter-fixtures-st.ts";

const H = 3;
let work: string;

/** A line gate whose only live weight reads the line half's first dimension: > 0 → angry. */
function writeLineGate(dir: string, gateJson: Record<string, unknown> = {}, F = 2 * H + 4): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/gate.json`, JSON.stringify({
    format: "kith-gate-1", hidden: 1, embedding_size: H, outputs: ["mood-calm", "mood-angry"], summary: "prompt+line",
    line_markers: { start: 6, end: 8 }, ...gateJson,
  }));
  const w1 = new Float32Array(F);
  w1[H] = 1; // h = relu(line mean, dim 0)
  writeSafe(`${dir}/gate.safetensors`, { w1, b1: new Float32Array(1), w2: Float32Array.of(0, 10), b2: Float32Array.of(1, 0) },
    (k) => ({ w1: [1, F], b1: [1], w2: [2, 1], b2: [2] })[k]!);
}

// Embedding table: token t → [t, 0, 1] for t < 6; the markers and the insult word (id 20) → [±, 0, 0].
const embed = (ids: number[]) => {
  const out = new Float32Array(ids.length * H);
  ids.forEach((t, i) => out.set(t === 20 ? [5, 0, 0] : t >= 6 ? [-1, 0, 0] : [0, t, 1], i * H));
  return out;
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "kith-gate-line-"));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("gate prompt+line summary", () => {
  it("lastLineIds: the tokens after the last start marker up to its end marker", () => {
    expect(lastLineIds([2, 1, 6, 3, 4, 8, 7, 1, 8, 6, 5, 20, 8, 7], 6, 8)).toEqual([5, 20]);
    expect(lastLineIds([6, 3, 4], 6, 8)).toEqual([3, 4]); // no end: to the end of the prompt
    expect(lastLineIds([1, 2, 6, 8, 7], 6, 8)).toEqual([6]); // an empty line: the marker itself, never empty
    expect(lastLineIds([1, 2, 3], 6, 8)).toEqual([3]); // no line: the last token
  });

  it("summarize gives [prompt mean, line mean] and the decision follows the line", async () => {
    writeLineGate(`${work}/g`);
    const gate = (await loadGate(`${work}/g`, nodePackageFiles, H)) as MlpGate;
    expect(gate.summaryWidth).toBe(2 * H);
    const calmIds = [2, 1, 6, 3, 4, 8, 7];
    const angryIds = [2, 1, 6, 3, 20, 8, 7];
    const s = gate.summarize(embed, angryIds);
    expect(Array.from(s.slice(0, H))).toEqual(Array.from(meanEmbedding(embed(angryIds), angryIds.length)));
    expect(Array.from(s.slice(H))).toEqual(Array.from(meanEmbedding(embed([3, 20]), 2)));
    const cand = { persona: "p", moods: ["mood-calm", "mood-angry"], skills: [] };
    const state = { timeOfDay: 12, threat: 0, standing: 0 };
    expect(gate.decide({ candidates: cand, state, promptSummary: gate.summarize(embed, angryIds) }).reason).toBe("top mood-angry");
    expect(gate.decide({ candidates: cand, state, promptSummary: gate.summarize(embed, calmIds) }).reason).toBe("top mood-calm");
    expect(() => gate.decide({ candidates: cand, state, promptSummary: new Float32Array(H) })).toThrow(/promptSummary of length 6/);
  });

  it("refuses a line gate without line_markers, an unknown summary and a w1 of the one-summary width", async () => {
    writeLineGate(`${work}/a`, { line_markers: undefined });
    await expect(loadGate(`${work}/a`, nodePackageFiles, H)).rejects.toThrow(/"line_markers" must be/);
    writeLineGate(`${work}/b`, { summary: "line" });
    await expect(loadGate(`${work}/b`, nodePackageFiles, H)).rejects.toThrow(/"summary" is "line"; should be one of "prompt", "prompt\+line"/);
    writeLineGate(`${work}/c`, {}, H + 4);
    await expect(loadGate(`${work}/c`, nodePackageFiles, H)).rejects.toThrow(/tensor "w1" has shape \[1,7\], expected \[1,10\]/);
  });
});
