// The trained gate's word cues (gate.json "word_cues"): a player's line that matches a mood's word
// list takes `share` of the mood decision, so an insult the MLP reads as small talk still makes
// the NPC angry; the rule gate reads the same lists (core/runtime/gate/mood-words.json).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGate, MlpGate } from "../core/runtime/gate/gate.ts";
import { MOOD_WORDS, ruleMoods } from "../core/runtime/gate/rules.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { writeSafe } from "./adapter-fixtures-st.ts";

const H = 2;
const F = H + 4;
let work: string;

/** A gate whose MLP is sure of calm whatever it reads (logits calm 4, angry 0, sad 0). */
function writeCalmGate(dir: string, gateJson: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/gate.json`, JSON.stringify({
    format: "kith-gate-1", hidden: 1, embedding_size: H, outputs: ["mood-angry", "mood-calm", "mood-sad"], strength: 0.8,
    word_cues: { share: 0.5, moods: { angry: "\\b(idiot|fraud)\\b", sad: "\\b(passed away|lost (my|our)(?! way))\\b" } },
    ...gateJson,
  }));
  writeSafe(`${dir}/gate.safetensors`, { w1: new Float32Array(F), b1: new Float32Array(1), w2: new Float32Array(3), b2: Float32Array.of(0, 4, 0) },
    (k) => ({ w1: [1, F], b1: [1], w2: [3, 1], b2: [3] })[k]!);
}

const state = { timeOfDay: 12, threat: 0, standing: 0 };
const summary = new Float32Array(H);
const cand = { persona: "brom", moods: ["mood-angry", "mood-calm", "mood-sad"], skills: [] };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "kith-gate-cues-"));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("gate word cues", () => {
  it("a matching line takes half the decision; other lines keep the MLP's", async () => {
    writeCalmGate(`${work}/g`);
    const gate = (await loadGate(`${work}/g`, nodePackageFiles, H)) as MlpGate;
    expect(gate.spec.wordCues?.share).toBe(0.5);
    const plain = gate.decide({ candidates: cand, state, text: "Where is the well?", promptSummary: summary });
    expect(plain.reason).toBe("top mood-calm");
    const pCalm = Math.exp(4) / (Math.exp(4) + 2);
    expect(plain.weights["mood-calm"]).toBeCloseTo(0.8 * pCalm, 6);

    const insult = gate.decide({ candidates: cand, state, text: "You IDIOT, you sold me rust", promptSummary: summary });
    expect(insult.reason).toBe("top mood-angry (word cue: mood-angry)");
    expect(insult.weights["mood-angry"]).toBeCloseTo(0.8 * (0.5 * (1 - pCalm) / 2 + 0.5), 6);
    expect(insult.weights["mood-calm"]).toBeCloseTo(0.8 * 0.5 * pCalm, 6);
    expect(insult.weights.brom).toBe(1);
    const total = ["mood-angry", "mood-calm", "mood-sad"].reduce((a, id) => a + insult.weights[id], 0);
    expect(total).toBeCloseTo(0.8, 6);

    expect(gate.decide({ candidates: cand, state, text: "my father passed away", promptSummary: summary }).reason).toBe("top mood-sad (word cue: mood-sad)");
    // The lookahead: losing one's way is not grief.
    expect(gate.decide({ candidates: cand, state, text: "I lost my way", promptSummary: summary }).reason).toBe("top mood-calm");
    // The first listed cue wins when both match.
    expect(gate.decide({ candidates: cand, state, text: "you fraud, my dog passed away", promptSummary: summary }).reason).toMatch(/word cue: mood-angry/);
  });

  it("a cue for a mood the character may not use is ignored", async () => {
    const gate = (await loadGate(`${work}/g`, nodePackageFiles, H)) as MlpGate;
    const d = gate.decide({ candidates: { ...cand, moods: ["mood-calm", "mood-sad"] }, state, text: "idiot", promptSummary: summary });
    expect(d.reason).toBe("top mood-calm");
    expect(d.weights["mood-angry"]).toBeUndefined();
  });

  it("refuses a bad share, a mood with no output and an expression that does not compile", async () => {
    writeCalmGate(`${work}/a`, { word_cues: { share: 1.5, moods: {} } });
    await expect(loadGate(`${work}/a`, nodePackageFiles, H)).rejects.toThrow(/"word_cues" must be \{"share": <0\.\.1>/);
    writeCalmGate(`${work}/b`, { word_cues: { share: 0.5, moods: { cheerful: "\\bthanks\\b" } } });
    await expect(loadGate(`${work}/b`, nodePackageFiles, H)).rejects.toThrow(/"word_cues\.moods\.cheerful" names a mood the gate has no output for/);
    writeCalmGate(`${work}/c`, { word_cues: { share: 0.5, moods: { angry: "(idiot" } } });
    await expect(loadGate(`${work}/c`, nodePackageFiles, H)).rejects.toThrow(/"word_cues\.moods\.angry" is not a valid regular expression/);
  });

  it("the shared lists: the rule gate reads them, the committed gate carries the same expressions", async () => {
    expect(Object.keys(MOOD_WORDS).sort()).toEqual(["angry", "cheerful", "sad"]);
    const allowed = ["mood-calm", "mood-angry", "mood-sad", "mood-cheerful"];
    expect(ruleMoods("you're a fraud", state, allowed).weights).toEqual({ "mood-angry": 1 });
    expect(ruleMoods("I buried my horse this morning", state, allowed).weights).toEqual({ "mood-sad": 1 });
    expect(ruleMoods("I lost my way to the tavern", state, allowed).weights).toEqual({ "mood-calm": 1 });
    expect(ruleMoods("I hate to bother you, where is the well?", state, allowed).weights).toEqual({ "mood-calm": 1 });
    expect(ruleMoods("what kind of boots do you sell?", state, allowed).weights).toEqual({ "mood-calm": 1 });
    // Praise of the NPC is cheerful; thanks that open a request are not.
    for (const l of ["you're a fine smith, you know", "I truly respect you", "finest stew in the village!", "well done"]) expect(ruleMoods(l, state, allowed).weights, l).toEqual({ "mood-cheerful": 1 });
    for (const l of ["thanks, and where's the well?", "thank you. how much is the rope?", "lovely weather"]) expect(ruleMoods(l, state, allowed).weights, l).toEqual({ "mood-calm": 1 });
    const committed = (await loadGate("adapters/gate", nodePackageFiles, 192)) as MlpGate;
    const cues = committed.spec.wordCues!;
    expect(cues.moods.map((m) => m.id)).toEqual(["mood-angry", "mood-sad", "mood-cheerful"]);
    expect(cues.moods.map((m) => m.pattern.source)).toEqual([MOOD_WORDS.angry, MOOD_WORDS.sad, MOOD_WORDS.cheerful]);
  });
});
