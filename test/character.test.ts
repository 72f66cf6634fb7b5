import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { CharacterCardError, parseCharacterCard, parseCharacterCardJson } from "../core/character/schema.ts";
import { importCharacterCardV2, parseMesExample } from "../core/character/sillytavern.ts";

const VILLAGERS = ["brom", "mira", "aldric", "hilde", "wen"];
const load = (id: string) => parseCharacterCardJson(readFileSync(`adapters/${id}/character.json`, "utf8"), `adapters/${id}/character.json`);

const minimal = {
  id: "tess", name: "Tess", role: "miller", description: "Tess runs the mill.", personality: "Calm.",
  speakingStyle: { summary: "Plain.", sentenceLength: "short" },
  facts: ["The mill is by the river."], greetings: ["Hello."],
};

describe("character card", () => {
  it("accepts a minimal card and fills defaults", () => {
    const card = parseCharacterCard(minimal);
    expect(card.defaultMood).toBe("calm");
    expect(card.facts[0]).toMatchObject({ text: "The mill is by the river.", topic: "lore", ask: [], say: [] });
    expect(card.actions).toEqual({ emotes: [], give: [], walkTo: [] });
  });

  it("names the file and every bad path", () => {
    const bad = { ...minimal, id: "Bad Id", speakingStyle: { summary: "x", sentenceLength: "tiny" }, moods: ["calm"], defaultMood: "angry", greetings: [] };
    let err: unknown;
    try { parseCharacterCard(bad, "adapters/tess/character.json"); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CharacterCardError);
    const msg = (err as Error).message;
    expect(msg).toContain("adapters/tess/character.json");
    expect(msg).toContain("at id:");
    expect(msg).toContain("at speakingStyle.sentenceLength:");
    expect(msg).toContain("at greetings:");
  });

  it("rejects cross-field mistakes: default mood outside moods, give of an unknown good, floor above price", () => {
    const bad = {
      ...minimal, moods: ["calm"], defaultMood: "sad",
      goods: [{ item: "flour", name: "flour", price: 3, floor: 5 }], actions: { give: ["cake"] },
    };
    expect(() => parseCharacterCard(bad, "x.json")).toThrow(/defaultMood[\s\S]*actions\.give\[0\][\s\S]*goods\[0\]\.floor|defaultMood/);
    try { parseCharacterCard(bad, "x.json"); } catch (e) {
      const paths = (e as CharacterCardError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(["defaultMood", "actions.give[0]", "goods[0].floor"]));
    }
  });

  it("reports broken JSON with the file name", () => {
    expect(() => parseCharacterCardJson("{ nope", "adapters/x/character.json")).toThrow(/adapters\/x\/character\.json: invalid character card:\n.*not valid JSON/);
  });

  it("ships five valid village cards with 10-20 facts, prices, relations and 6+ samples", () => {
    for (const id of VILLAGERS) {
      expect(existsSync(`adapters/${id}/character.json`)).toBe(true);
      const card = load(id);
      expect(card.id).toBe(id);
      expect(card.facts.length).toBeGreaterThanOrEqual(10);
      expect(card.facts.length).toBeLessThanOrEqual(20);
      expect(card.goods.length).toBeGreaterThan(0);
      expect(card.sampleDialogue.length).toBeGreaterThanOrEqual(6);
      const others = VILLAGERS.filter((v) => v !== id);
      const about = new Set(card.facts.filter((f) => f.topic === "villager").map((f) => f.about));
      for (const o of others) expect(about.has(o), `${id} knows ${o}`).toBe(true);
      // Every in-voice answer states the fact: it contains one of the expected words.
      for (const f of card.facts) {
        for (const s of f.say) {
          expect(f.expect.some((w) => s.toLowerCase().includes(w.toLowerCase())), `${id}: "${s}" states one of ${f.expect}`).toBe(true);
        }
      }
    }
  });

  it("gives the five characters distinct voices (addresses and tics do not overlap)", () => {
    const cards = VILLAGERS.map(load);
    const addresses = cards.map((c) => new Set(c.speakingStyle.address));
    for (let i = 0; i < cards.length; i++) {
      for (let j = i + 1; j < cards.length; j++) {
        const shared = [...addresses[i]].filter((a) => addresses[j].has(a));
        expect(shared.length <= 1, `${cards[i].id}/${cards[j].id} share ${shared}`).toBe(true);
        const tics = cards[i].speakingStyle.tics.filter((t) => cards[j].speakingStyle.tics.includes(t));
        expect(tics).toEqual([]);
      }
    }
    // Brom's lines are short, Hilde's long: mean words per sample reply.
    const meanWords = (id: string) => { const c = load(id); return c.sampleDialogue.reduce((n, s) => n + s.npc.split(/\s+/).length, 0) / c.sampleDialogue.length; };
    expect(meanWords("brom")).toBeLessThan(meanWords("hilde") / 1.8);
  });
});

describe("SillyTavern Character Card V2 import", () => {
  const v2 = {
    spec: "chara_card_v2",
    spec_version: "2.0",
    data: {
      name: "Pell",
      description: "{{char}} is the ferryman of the Grey River. He has ferried {{user}} before.",
      personality: "Quiet, superstitious, honest.",
      scenario: "A foggy morning at the river crossing.",
      first_mes: "*{{char}} pushes his hood back.* Crossing, {{user}}?",
      mes_example: "<START>\n{{user}}: How much to cross?\n{{char}}: Two coins.\nNo less.\n<START>\n{{user}}: Is the river safe?\nPell: Never, in fog.\n",
      creator_notes: "Made for a test.",
      system_prompt: "",
      post_history_instructions: "",
      alternate_greetings: ["Fog's thick today."],
      character_book: { entries: [
        { keys: ["river", "Grey River"], content: "The Grey River floods every spring.", enabled: true, insertion_order: 0 },
        { keys: ["secret"], content: "Disabled entry.", enabled: false, insertion_order: 1 },
      ] },
      tags: ["ferryman", "river"],
      creator: "kith tests",
      character_version: "1",
      extensions: { kith: { role: "ferryman", goods: [{ item: "crossing", name: "river crossing", price: 2, service: true }], moods: ["calm", "afraid"] } },
    },
  };

  it("splits mes_example into player/NPC pairs", () => {
    expect(parseMesExample(v2.data.mes_example, "Pell")).toEqual([
      { player: "How much to cross?", npc: "Two coins. No less." },
      { player: "Is the river safe?", npc: "Never, in fog." },
    ]);
  });

  it("maps a V2 card onto ours", () => {
    const card = importCharacterCardV2(v2);
    expect(card.id).toBe("pell");
    expect(card.name).toBe("Pell");
    expect(card.role).toBe("ferryman");
    expect(card.description).toBe("Pell is the ferryman of the Grey River. He has ferried you before.");
    expect(card.greetings).toEqual(["*Pell pushes his hood back.* Crossing, you?", "Fog's thick today."]);
    expect(card.sampleDialogue).toHaveLength(2);
    expect(card.facts).toEqual([expect.objectContaining({ text: "The Grey River floods every spring.", expect: ["river", "Grey River"] })]);
    expect(card.lore).toContain("foggy morning");
    expect(card.goods[0]).toMatchObject({ item: "crossing", price: 2 });
    expect(card.moods).toEqual(["calm", "afraid"]);
    expect(card.speakingStyle.sentenceLength).toBe("short");
    expect(card.tags).toEqual(["ferryman", "river"]);
  });

  it("rejects a non-V2 card with the path of the problem", () => {
    expect(() => importCharacterCardV2({ spec: "chara_card_v3", data: {} }, { source: "pell.json" })).toThrow(/pell\.json[\s\S]*at spec:[\s\S]*at data\.name/);
    expect(() => importCharacterCardV2({ ...v2, data: { ...v2.data, extensions: { kith: { defaultMood: "sad" } } } })).toThrow(/defaultMood/);
  });
});
