import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { applyChecks, containsWord } from "../core/eval/checks.ts";
import { caseMoment, parseEvalCase } from "../core/eval/case.ts";
import { scoreResults } from "../core/eval/score.ts";
import { SpeakerClassifier, cardLines } from "../core/eval/speaker.ts";
import { assemblePrompt } from "../core/prompt/context.ts";
import { parseReply } from "../core/prompt/reply.ts";
import { loadCards, loadScene } from "../training/eval/world.ts";
import { readSuite } from "../training/eval/run-suite.ts";

describe("eval checks", () => {
  it("matches whole words and numbers, case-insensitively", () => {
    expect(containsWord("That is 25 coins.", "2")).toBe(false);
    expect(containsWord("That is 2 coins.", "2")).toBe(true);
    expect(containsWord("2, and no more", "2")).toBe(true);
    expect(containsWord("A pale ale", "ale")).toBe(true);
    expect(containsWord("A pale horse", "ale")).toBe(false);
    expect(containsWord("Ask MILLBROOK folk", "millbrook")).toBe(true);
    expect(containsWord("as an AI, I cannot", "as an ai")).toBe(true);
    expect(containsWord("def foo(): pass", "def ")).toBe(true);
    expect(containsWord("undefined", "def ")).toBe(false);
    expect(containsWord("see ```code```", "```")).toBe(true);
    // A plural or possessive ending on a word, never on a number.
    expect(containsWord("She pays her tolls on time.", "toll")).toBe(true);
    expect(containsWord("Hilde's stew", "hilde")).toBe(true);
    expect(containsWord("two hearths", "hearth")).toBe(true);
    expect(containsWord("tollbooth", "toll")).toBe(false);
    expect(containsWord("That is 25 coins.", "2")).toBe(false);
    expect(containsWord("That is 2s.", "2")).toBe(false);
  });

  it("applies contains_any, contains_none, action and mood to a parsed reply", () => {
    const r = parseReply("[mood:cheerful] Fine, 16 coins it is! [give:apple] [emote:nod]");
    expect(applyChecks(r, { contains_any: ["16"], action: "give:apple", mood: "cheerful" })).toEqual([]);
    expect(applyChecks(r, { contains_any: ["1", "6"] })).toEqual(['contains_any: none of ["1","6"]']);
    expect(applyChecks(r, { contains_none: ["coins"] })).toEqual(['contains_none: has ["coins"]']);
    expect(applyChecks(r, { action: "GIVE:pear" })).toEqual(["action: want give:pear, got give:apple emote:nod"]);
    expect(applyChecks(r, { mood: "Angry" })).toEqual(["mood: want angry, got cheerful"]);
    // Tags are not spoken text: "give" in a tag does not satisfy a word check.
    expect(applyChecks(r, { contains_any: ["apple"] })).toHaveLength(1);
    expect(applyChecks(parseReply(""), { mood: "calm" })).toEqual(["mood: want calm, got none"]);
  });

  it("rejects malformed cases with a message naming the field", () => {
    const ok = { id: "x", scene: "village", npc: "brom", say: "hi", checks: { mood: "calm" } };
    expect(parseEvalCase(ok, "s:1").history).toEqual([]);
    expect(() => parseEvalCase({ ...ok, checks: { smells: 1 } }, "s:2")).toThrow(/s:2: unknown check "smells"/);
    expect(() => parseEvalCase({ ...ok, say: "" }, "s:3")).toThrow(/"say"/);
    expect(() => parseEvalCase({ ...ok, checks: { action: "give apple" } }, "s:4")).toThrow(/"action"/);
    expect(() => parseEvalCase({ ...ok, history: [{ role: "wizard", text: "x" }] }, "s:5")).toThrow(/history\[0\]/);
    expect(() => parseEvalCase([], "s:6")).toThrow(/JSON object/);
  });

  it("scores overall and per tag", () => {
    const s = scoreResults([
      { id: "a", tags: ["price", "x"], reply: "", fails: [] },
      { id: "b", tags: ["price"], reply: "", fails: ["mood: want calm, got none"] },
      { id: "c", tags: ["x"], reply: "", fails: [] },
    ]);
    expect(s).toEqual({ cases: 3, passed: 2, score: 0.6667, by_tag: { price: 0.5, x: 1 } });
  });

  it("builds every committed case's prompt with assemblePrompt, ending at <|npc|>", () => {
    const root = process.cwd();
    const scene = loadScene("village", root);
    const scenes = new Map([["village", scene]]);
    const cards = loadCards(root);
    const count = (t: string) => Math.ceil(t.length / 3.7);
    let n = 0;
    for (const f of readdirSync("evals").filter((x) => x.endsWith(".jsonl"))) {
      for (const c of readSuite(`evals/${f}`)) {
        if (!scenes.has(c.scene)) scenes.set(c.scene, loadScene(c.scene, root)); // a name or a path (evals/scenes/)
        const p = assemblePrompt(caseMoment(c, scenes.get(c.scene)!, cards), count).text;
        expect(p.startsWith("<|persona|>")).toBe(true);
        expect(p.endsWith("<|npc|>")).toBe(true);
        expect(p).toContain(c.say.trim().slice(0, 8));
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
    expect(() => caseMoment({ ...readSuite("evals/mood.jsonl")[0], npc: "ghost" }, scene, cards)).toThrow(/"ghost" is not in the scene/);
    expect(() => loadScene("atlantis", root)).toThrow(/atlantis.*not found/);
  });

  it("speaker classifier tells the cards' voices apart on held-out lines of each card", () => {
    const cards = [...loadCards(process.cwd()).values()];
    // Leave-one-out over each card's lines: train without the line, predict it.
    let right = 0, total = 0;
    for (const card of cards) {
      const own = cardLines(card);
      for (let i = 0; i < own.length; i += 3) {
        const train = new Map(cards.map((c) => [c.id, c.id === card.id ? own.filter((_, j) => j !== i) : cardLines(c)]));
        const who = SpeakerClassifier.train(train).predict(own[i]);
        if (who === card.id) right++;
        total++;
      }
    }
    expect(total).toBeGreaterThan(30);
    expect(right / total).toBeGreaterThan(0.5); // five speakers: chance is 0.2
    expect(SpeakerClassifier.fromCards(cards).predict("[mood:calm]")).toBeNull();
    expect(() => SpeakerClassifier.train(new Map([["a", ["x"]]]))).toThrow(/at least 2 speakers/);
  });
});

// Keep the suites readable as committed JSONL (a stray line breaks every eval run).
describe("committed suites", () => {
  it("parse", () => {
    for (const f of readdirSync("evals").filter((x) => x.endsWith(".jsonl"))) {
      expect(readFileSync(`evals/${f}`, "utf8").length).toBeGreaterThan(0);
      expect(readSuite(`evals/${f}`).length).toBeGreaterThan(0);
    }
  });
});
