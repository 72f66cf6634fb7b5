import { describe, expect, it } from "vitest";
import { expandFrame, GRAMMAR, grammarPhrasings, leaksHeldOut, MAX_PER_INTENT } from "../training/data/phrase-grammar.ts";
import { grammarTemplates, PHRASINGS, templatesFor } from "../training/data/phrasings.ts";
import { loadWorld } from "../training/data/world.ts";
import { Rng } from "../training/data/rng.ts";
import { makeScenario } from "../training/data/sample.ts";
import { phrasingCoverage } from "../training/data/phrasing-coverage.ts";

const slotsOf = (t: string) => new Set(t.match(/\{[a-z_]+\}/g) ?? []);

describe("phrase grammar: frames", () => {
  it("expands alternatives, optional parts and nesting, in order and without repeats", () => {
    expect(expandFrame("(hi|hello) there")).toEqual(["hi there", "hello there"]);
    expect(expandFrame("thanks[ a lot]")).toEqual(["thanks a lot", "thanks"]);
    expect(expandFrame("(a (b|c)|d)[ e[ f]]")).toEqual(["a b e f", "a b e", "a b", "a c e f", "a c e", "a c", "d e f", "d e", "d"]);
    expect(expandFrame("(x|x) y")).toEqual(["x y"]);
    // An empty alternative leaves no double space or space before punctuation.
    expect(expandFrame("(so|) who ( are|) you ?")).toEqual(["so who are you?", "so who you?", "who are you?", "who you?"]);
  });

  it("rejects malformed frames with the frame in the message", () => {
    expect(() => expandFrame("(a|b")).toThrow(/unclosed "\(" in frame "\(a\|b"/);
    expect(() => expandFrame("a|b")).toThrow(/outside/);
    expect(() => expandFrame("a)")).toThrow(/unexpected "\)"/);
    expect(() => expandFrame("[a)")).toThrow(/unexpected "\)"|unclosed/);
  });

  it("every frame parses, and uses only slots its intent's situation fills", () => {
    for (const [intent, frames] of Object.entries(GRAMMAR)) {
      expect(PHRASINGS[intent], intent).toBeDefined();
      // {npc} (the NPC's name) is filled for every intent; the rest only where the situation sets them.
      const allowed = new Set(["{npc}", ...PHRASINGS[intent].flatMap((t) => [...slotsOf(t)])]);
      for (const f of frames) for (const p of expandFrame(f)) for (const s of slotsOf(p)) expect(allowed.has(s), `${intent}: ${s} in "${p}"`).toBe(true);
    }
  });
});

describe("phrase grammar: held-out phrasings stay unseen", () => {
  it("leaksHeldOut catches copies, additions and close rewordings, and passes distinct lines", () => {
    expect(leaksHeldOut("goodbye", ["goodbye"])).toBe(true);
    expect(leaksHeldOut("goodbye then, {npc}", ["goodbye"])).toBe(true); // held-out words plus two
    expect(leaksHeldOut("what could i buy here?", ["what can i buy here?"])).toBe(true); // Jaccard 4/6
    expect(leaksHeldOut("what's around you?", ["what's near you?"])).toBe(true); // Jaccard 2/4
    expect(leaksHeldOut("i despise this place", ["i hate this stupid village"])).toBe(false);
    expect(leaksHeldOut("any gossip lately?", ["what's the news?"])).toBe(false);
  });

  it("no grammar phrasing is near a held-out template of its intent, repeats a flat one, or exceeds the cap", () => {
    const pattern = (t: string) => new RegExp("^" + t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[a-z_]+\}/g, ".+") + "$", "i");
    for (const intent of Object.keys(PHRASINGS)) {
      const held = templatesFor(intent, "heldout").map((t) => t.text);
      const flat = new Set(PHRASINGS[intent].map((t) => t.toLowerCase()));
      const list = grammarTemplates(intent);
      expect(list.length, intent).toBeGreaterThan(10);
      expect(list.length).toBeLessThanOrEqual(MAX_PER_INTENT);
      for (const { id, text } of list) {
        expect(id).toMatch(new RegExp(`^${intent}:g\\d+$`));
        expect(flat.has(text.toLowerCase()), text).toBe(false);
        expect(leaksHeldOut(text, held), `${intent}: "${text}"`).toBe(false);
        for (const h of held) expect(pattern(h).test(text), `"${text}" fits held-out "${h}"`).toBe(false);
      }
    }
  });

  it("reports what it dropped as too close", () => {
    const { kept, leaked } = grammarPhrasings("farewell", ["bye"], []);
    const all = GRAMMAR.farewell.flatMap(expandFrame);
    expect(kept.length + leaked).toBe(new Set(all.map((s) => s.toLowerCase())).size);
    expect(kept.some((k) => /^(cheerio|later)$/.test(k))).toBe(true);
  });
});

describe("phrase grammar in the data engine", () => {
  const world = loadWorld(".");

  it("changes training draws only: held-out samples and suite cases (no history) are the same with it on", () => {
    for (const intent of ["introduce", "price", "insult", "rumour"]) {
      const a = makeScenario(world, new Rng(`pg|${intent}`), "heldout", "x", { npcIndex: 1, intent, vary: false, noise: 0.5 });
      const b = makeScenario(world, new Rng(`pg|${intent}`), "heldout", "x", { npcIndex: 1, intent, vary: false, noise: 0.5, phraseGrammar: 1 });
      expect(b?.sample).toEqual(a?.sample);
    }
  });

  it("with share 1 every training line comes from the grammar; with 0 none does", () => {
    const lines = (share: number) => {
      const rng = new Rng(5);
      const out: string[] = [];
      for (let i = 0; i < 300; i++) {
        const sc = makeScenario(world, rng, "train", `t${i}`, { phraseGrammar: share, vary: false });
        if (sc) out.push(sc.situation.template);
      }
      return out;
    };
    const on = lines(1), off = lines(0);
    // "fact" with no grammar wrapper drawn still counts: every intent has frames.
    expect(on.every((t) => /:g\d+(\/|$)/.test(t))).toBe(true);
    expect(off.some((t) => /:g\d+(\/|$)/.test(t))).toBe(false);
  });
});

describe("phrasing coverage", () => {
  it("scores every held-out template and lists each miss with its nearest training phrasing", () => {
    const c = phrasingCoverage(true);
    const held = Object.keys(PHRASINGS).reduce((n, k) => n + templatesFor(k, "heldout").length, 0);
    expect(c.held_out).toBe(held);
    expect(c.misses.length).toBe(Math.round(held * (1 - c.accuracy)));
    for (const m of c.misses) expect(m.nearest_intent).not.toBe(m.intent);
    expect(c.training_phrasings).toBeGreaterThan(phrasingCoverage(false).training_phrasings);
  });
});
