import { describe, expect, it } from "vitest";
import { parseReply } from "../core/prompt/reply.ts";
import { counterfactualCard, counterfactualSamples } from "../training/data/counterfactual.ts";
import { Rng } from "../training/data/rng.ts";
import { heldOutFacts } from "../training/data/situations.ts";
import { loadWorld } from "../training/data/world.ts";

const world = loadWorld(".");
const samples = counterfactualSamples(world, 600, 5);

describe("counterfactual grounding samples", () => {
  it("swap a fact's key term consistently in its text and answers, and leave held-out facts out", () => {
    for (const card of world.cards.values()) {
      const cf = counterfactualCard(card, new Rng(`t|${card.id}`));
      const held = heldOutFacts(card);
      expect(cf.facts.length).toBe(card.facts.length - held.size);
      for (const f of cf.facts) expect(held.has(f.text)).toBe(false);
      const swapped = cf.facts.filter((f) => !card.facts.some((o) => o.text === f.text));
      expect(swapped.length).toBeGreaterThan(cf.facts.length / 3);
      for (const f of swapped) {
        expect(f.expect).toHaveLength(1);
        expect(f.text.toLowerCase()).toContain(f.expect[0].toLowerCase());
        for (const s of f.say) expect(s.toLowerCase()).toContain(f.expect[0].toLowerCase());
      }
      // Prices change, goods stay.
      expect(cf.goods.map((g) => g.item)).toEqual(card.goods.map((g) => g.item));
    }
  });

  it("every reply carries a value that only its prompt holds, and parses", () => {
    expect(samples).toHaveLength(600);
    for (const s of samples) {
      const reply = parseReply(s.completion.replace("<|end|>", ""));
      expect(reply.mood).toBeTruthy();
      const original = new Set(JSON.stringify(world.cards.get(s.npc)!).toLowerCase().match(/[a-z]+|\d+/g));
      const persona = s.prompt.slice(0, s.prompt.indexOf("<|", 3)).toLowerCase();
      const words = s.completion.replace(/\[[^\]]*\]|<\|end\|>/g, " ").toLowerCase().match(/[a-z]{3,}|\d+/g) ?? [];
      // A swapped value (a word the real card never uses) or a number, read from the prompt's persona section.
      const inPersona = new Set(persona.match(/[a-z]+|\d+/g));
      const grounded = words.filter((w) => inPersona.has(w) && (/\d/.test(w) || !original.has(w)));
      expect(grounded.length, `${s.id}: ${s.completion}`).toBeGreaterThan(0);
    }
  });

  it("never asks about or shows a held-out fact", () => {
    const heldTexts = [...world.cards.values()].flatMap((c) => [...heldOutFacts(c)]);
    for (const s of samples) for (const t of heldTexts) expect(s.prompt.includes(t)).toBe(false);
  });

  it("is reproducible from its seed", () => {
    const again = counterfactualSamples(world, 50, 5);
    expect(again.map((s) => s.completion)).toEqual(samples.slice(0, 50).map((s) => s.completion));
  });
});
