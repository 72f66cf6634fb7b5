import { describe, expect, it } from "vitest";
import type { CharacterCard } from "../core/character/schema.ts";
import { parseReply } from "../core/prompt/reply.ts";
import { counterfactualSamples } from "../training/data/counterfactual.ts";
import { firstPersonFact, restateFact } from "../core/prompt/restate.ts";
import { Rng } from "../training/data/rng.ts";
import { makeScenario } from "../training/data/sample.ts";
import { syntheticFactSamples } from "../training/data/synthetic-facts.ts";
import { loadWorld } from "../training/data/world.ts";

const world = loadWorld(".");
const card = (id: string): CharacterCard => world.cards.get(id)!;

describe("card facts in the NPC's own words", () => {
  it("turns the NPC into the first person and leaves other people alone", () => {
    expect(firstPersonFact(card("brom"), "Brom has worked the Oakhollow forge for thirty years.")).toBe("I have worked the Oakhollow forge for thirty years.");
    expect(firstPersonFact(card("brom"), "Brom learned smithing from his father, Garrick Ironhand.")).toBe("I learned smithing from my father, Garrick Ironhand.");
    expect(firstPersonFact(card("brom"), "Brom's hammer is named Old Temper.")).toBe("My hammer is named Old Temper.");
    expect(firstPersonFact(card("brom"), "Mira Vell haggles too hard, but she pays Brom on time for the buckles she sells.")).toBe("Mira Vell haggles too hard, but she pays me on time for the buckles she sells.");
    expect(firstPersonFact(card("brom"), "Aldric Thorne carries a spear whose head Brom forged.")).toBe("Aldric Thorne carries a spear whose head I forged.");
    expect(firstPersonFact(card("brom"), "Brom sharpens a blade for 2 coins and mends a broken one for 10 coins.")).toBe("I sharpen a blade for 2 coins and mend a broken one for 10 coins.");
    expect(firstPersonFact(card("wen"), "Old Wen is eighty-one years old, the eldest in Oakhollow.")).toBe("I am eighty-one years old, the eldest in Oakhollow.");
    expect(firstPersonFact(card("wen"), "Aldric Thorne is the dutiful gate guard, whom Wen calls a straight young birch.")).toBe("Aldric Thorne is the dutiful gate guard, whom I call a straight young birch.");
    expect(firstPersonFact(card("hilde"), "Old Wen gives Hilde herbs for the stew.")).toBe("Old Wen gives me herbs for the stew.");
    expect(firstPersonFact(card("hilde"), "Lights have been seen in the Greywood at night.")).toBe("Lights have been seen in the Greywood at night.");
    // A card the rules were not written for: a made-up name works the same way.
    const other = { ...card("mira"), name: "Tamsin Reed" };
    expect(firstPersonFact(other, "Tamsin buys flax from the river farms.")).toBe("I buy flax from the river farms.");
  });

  it("keeps every word of the fact that carries its meaning, with a tic or an address at most", () => {
    const rng = new Rng("restate");
    for (const c of world.cards.values()) {
      for (const f of c.facts) {
        const said = restateFact(c, f.text, rng);
        const first = firstPersonFact(c, f.text);
        expect(said.toLowerCase()).toContain(first.toLowerCase().replace(/[.!?]$/, "").slice(1));
        for (const term of f.expect.filter((t) => new RegExp(`\\b${t}\\b`, "i").test(f.text))) expect(said).toMatch(new RegExp(`\\b${term}\\b`, "i"));
      }
    }
  });

  it("answers fact samples with the retrieved fact when asked to, and draws the same samples when not", () => {
    const draw = (restateFacts: number) => {
      const rng = new Rng("restate-samples");
      const out = [];
      for (let i = 0; i < 400; i++) {
        const sc = makeScenario(world, rng, "train", `r-${i}`, { intent: rng.pick(["fact", "villager", "rumour", "quest", "price"]), restateFacts });
        if (sc) out.push(sc);
      }
      return out;
    };
    const plain = draw(0), again = draw(0);
    expect(plain.map((s) => s.sample)).toEqual(again.map((s) => s.sample));
    const restated = draw(1);
    let n = 0;
    for (const sc of restated) {
      const { situation: s, sample } = sc;
      const facts = sample.prompt.split("\n").filter((l) => l.startsWith("- ")).map((l) => l.slice(2));
      if (s.fact && facts.includes(s.fact)) {
        n++;
        const text = parseReply(sample.completion.replace("<|end|>", "")).text;
        const c = world.cards.get(world.npcs.find((x) => x.id === sample.npc)!.character)!;
        expect(text.toLowerCase()).toContain(firstPersonFact(c, s.fact).toLowerCase().replace(/[.!?]$/, "").slice(1));
      } else if (s.intent === "price") {
        expect(sample.completion).toContain(s.reply.slice(0, 10));
      }
    }
    expect(n).toBeGreaterThan(150);
  });

  it("restates swapped facts in counterfactual samples, so only the prompt knows the answer", () => {
    const samples = counterfactualSamples(world, 200, 9, () => {}, 0, 1).filter((s) => s.intent === "fact");
    expect(samples.length).toBeGreaterThan(50);
    for (const s of samples) {
      const facts = s.prompt.split("\n").filter((l) => l.startsWith("- ")).map((l) => l.slice(2).toLowerCase());
      const text = parseReply(s.completion.replace("<|end|>", "")).text.toLowerCase();
      // The reply's words after any tic are a fact line of the prompt in the first person.
      const core = text.split(/[,.!?] /).sort((a, b) => b.length - a.length)[0].replace(/[.!?]$/, "");
      const words = core.split(/\s+/).filter((w) => w.length > 4 && !["friend", "stranger", "citizen", "traveller"].includes(w));
      expect(facts.some((f) => words.filter((w) => f.includes(w.replace(/[^a-z-]/g, ""))).length >= Math.min(2, words.length))).toBe(true);
    }
  });

  it("asks about made-up facts that only the prompt holds, in the game's prompt, first among its facts", () => {
    const samples = syntheticFactSamples(world, 300, 4);
    expect(samples).toHaveLength(300);
    expect(syntheticFactSamples(world, 20, 4)).toEqual(samples.slice(0, 20));
    const cardFacts = new Set([...world.cards.values()].flatMap((c) => c.facts.map((f) => f.text)));
    for (const s of samples) {
      const facts = s.prompt.split("<|")[1].split("\n").filter((l) => l.startsWith("- ")).map((l) => l.slice(2));
      // The first fact line is the new one (no card has it); the reply is that fact in the NPC's words.
      const fact = facts[0];
      expect(cardFacts.has(fact)).toBe(false);
      const c = world.cards.get(world.npcs.find((x) => x.id === s.npc)!.character)!;
      const text = parseReply(s.completion.replace("<|end|>", "")).text.toLowerCase();
      const copy = { ...c, facts: [...c.facts, { text: fact, topic: "self" as const, ask: [], say: [], expect: [] }] };
      expect(text).toContain(firstPersonFact(copy, fact).toLowerCase().replace(/[.!?]$/, "").slice(1));
      expect(facts.length).toBe(4);
    }
    expect(new Set(samples.map((s) => s.completion)).size).toBeGreaterThan(290);
  });
});
