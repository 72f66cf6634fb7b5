import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SpeakerClassifier } from "../core/eval/speaker.ts";
import { personaCore } from "../core/prompt/persona.ts";
import { parseReply } from "../core/prompt/reply.ts";
import { parseArgs, run } from "../training/data/main.ts";
import { neutralWorld } from "../training/data/neutral.ts";
import { Rng } from "../training/data/rng.ts";
import { makeScenario } from "../training/data/sample.ts";
import { loadWorld } from "../training/data/world.ts";

// The data engine's neutral voice (--voice neutral): the corpus a base without voices trains on.
// The prompts are the game's (the real card's persona), the replies plain but as right as the
// card's own: same prices, places, facts, moods and actions.

const world = loadWorld(".");
const plainWorld = neutralWorld(world);
const clf = SpeakerClassifier.fromCards(world.cards.values());
const npcCard = (npc: string) => world.cards.get(world.npcs.find((n) => n.id === npc)!.character)!;

function corpus(voice: "card" | "neutral"): { npc: string; prompt: string; completion: string }[] {
  const dir = mkdtempSync(join(tmpdir(), `kith-voice-${voice}-`));
  run(parseArgs(["--out", dir, "--samples", "1500", "--seed", "5", "--no-evals", "--restate-facts", "0.5", "--voice", voice]), () => {});
  return readFileSync(join(dir, "train.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

describe("neutral voice", () => {
  it("keeps every reply's content: the checks the suites would apply pass, moods and actions as asked", () => {
    const rng = new Rng(21);
    let n = 0;
    for (let i = 0; n < 2000 && i < 6000; i++) {
      const sc = makeScenario(plainWorld, rng, "train", `n-${i}`, { restateFacts: 0.5 });
      if (!sc) continue;
      n++;
      const { situation: s, sample } = sc;
      const r = parseReply(s.reply);
      const lower = r.text.toLowerCase();
      if (s.checks.contains_any) expect(s.checks.contains_any.some((w) => lower.includes(w.toLowerCase())), `${sample.intent}: ${s.reply}`).toBe(true);
      if (s.checks.action) expect(r.actions.map((a) => `${a.kind}:${a.arg}`), s.reply).toContain(s.checks.action);
      expect(r.mood).toBe(sample.mood);
      // The prompt is the one the game builds from the real card.
      expect(sample.prompt).toContain(personaCore(npcCard(sample.npc)));
    }
    expect(n).toBe(2000);
  });

  it("says nothing in a character's voice: no card's form of address, and the speaker classifier mostly cannot tell who spoke", () => {
    const voiced = corpus("card"), plain = corpus("neutral");
    const address = new Set([...world.cards.values()].flatMap((c) => c.speakingStyle.address.map((a) => a.toLowerCase())));
    const addressed = (rows: typeof voiced) => rows.filter((r) => [...address].some((a) => new RegExp(`\\b${a}\\b`, "i").test(parseReply(r.completion).text))).length / rows.length;
    const speakerId = (rows: typeof voiced) => rows.filter((r) => clf.predict(parseReply(r.completion).text) === npcCard(r.npc).id).length / rows.length;
    const figures = { voiced: { speaker_id: speakerId(voiced), addressed: addressed(voiced) }, neutral: { speaker_id: speakerId(plain), addressed: addressed(plain) } };
    console.log(JSON.stringify(figures));
    expect(figures.voiced.addressed).toBeGreaterThan(0.15);
    expect(figures.neutral.addressed).toBeLessThan(0.02);
    expect(figures.neutral.speaker_id).toBeLessThan(figures.voiced.speaker_id - 0.25);
  });
});
