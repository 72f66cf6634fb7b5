// Which player lines the NPC answers with its eyes (core/vision/sight.ts): the grounding questions'
// phrasings, both splits, filled with every kind and colour, against the dialogue suites' lines.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { asksAboutSight } from "../core/vision/sight.ts";
import { COLOURS, KINDS } from "../core/vision/vocab.ts";
import { ASK } from "../training/vision/questions.ts";

const fill = (t: string, k: string, c: string) =>
  t.replaceAll("{ks}", `${k}s`).replaceAll("{k}", k).replaceAll("{c}", c).replaceAll("{a}", `${c} ${k}`).replaceAll("{b}", `grey ${k}`);

describe("asksAboutSight", () => {
  it("flags every grounding question phrasing, trained and held out, for every kind and colour", () => {
    const missed: string[] = [];
    let n = 0;
    for (const [train, held] of Object.values(ASK)) {
      for (const t of [...train, ...held]) {
        for (const k of KINDS) for (const c of COLOURS) {
          n++;
          const q = fill(t, k, c);
          if (!asksAboutSight(q) || !asksAboutSight(q.toUpperCase())) missed.push(q);
        }
      }
    }
    expect(n).toBeGreaterThan(1000);
    expect(missed).toEqual([]);
  });

  it("leaves the lines of the persona, mood, trading and injection suites on the text path", () => {
    const lines = ["persona", "mood", "trading", "injection"].flatMap((s) =>
      readFileSync(`evals/${s}.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l).say as string));
    const flagged = lines.filter(asksAboutSight);
    expect(lines.length).toBe(240);
    expect(flagged.length / lines.length).toBeLessThanOrEqual(0.01);
  });

  it("reads words, not parts of words", () => {
    expect(asksAboutSight("What do you see?")).toBe(true);
    expect(asksAboutSight("how many barrels are there")).toBe(true);
    expect(asksAboutSight("What's that red thing?")).toBe(true);
    expect(asksAboutSight("Any idea who founded the village?")).toBe(false); // "idea", not "see"
    expect(asksAboutSight("I'll take the seeds")).toBe(false);
    expect(asksAboutSight("Goodbye, redhead")).toBe(false);
  });
});
