import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseReply } from "../core/prompt/reply.ts";
import { loadWorld } from "../training/data/world.ts";
import { Rng } from "../training/data/rng.ts";
import { makeScenario, PROMPT_BUDGET, type Scenario } from "../training/data/sample.ts";
import { heldOut, PHRASINGS, templatesFor } from "../training/data/phrasings.ts";
import { heldOutFacts, heldOutItems, heldOutPlaces, heldOutVillagers, allIntents, type Situation } from "../training/data/situations.ts";
import { NearDupFilter } from "../training/data/dedup.ts";
import { buildEvalSuites, SUITES } from "../training/data/evals.ts";
import { run, parseArgs } from "../training/data/main.ts";

const world = loadWorld(".");

function draw(seed: number, split: "train" | "heldout", n: number, phraseGrammar = 0): Scenario[] {
  const rng = new Rng(seed);
  const out: Scenario[] = [];
  for (let i = 0; out.length < n && i < n * 3; i++) {
    const sc = makeScenario(world, rng, split, `${seed}-${i}`, { phraseGrammar });
    if (sc) out.push(sc);
  }
  return out;
}

const train = draw(11, "train", 4000);
const held = draw(12, "heldout", 1500);
// Training draws that take half their phrasings from the phrase grammar (--phrase-grammar 0.5).
const trainGrammar = draw(13, "train", 2000, 0.5);

/** The reply meets the checks the evaluation suites would apply to it. */
function meetsChecks(s: Situation): string | null {
  const r = parseReply(s.reply);
  const lower = r.text.toLowerCase();
  if (s.checks.contains_any && !s.checks.contains_any.some((w) => lower.includes(w.toLowerCase()))) return `none of ${s.checks.contains_any}`;
  if (s.checks.contains_none?.some((w) => lower.includes(w.toLowerCase()))) return "a forbidden word";
  if (s.checks.action && !r.actions.some((a) => `${a.kind}:${a.arg}` === s.checks.action)) return `no ${s.checks.action}`;
  if (s.checks.mood && r.mood !== s.checks.mood) return `mood ${r.mood}`;
  return null;
}

describe("data engine samples", () => {
  it("covers every intent and NPC, with well-formed prompts and completions", () => {
    expect(new Set(train.map((s) => s.sample.intent))).toEqual(new Set(allIntents()));
    expect(new Set(train.map((s) => s.sample.npc))).toEqual(new Set(["brom", "mira", "aldric", "hilde", "wen"]));
    for (const { sample, situation } of train) {
      expect(sample.prompt.startsWith("<|persona|>You are ")).toBe(true);
      expect(sample.prompt.endsWith(`<|player|>${sample.say.replace(/\s+/g, " ").trim()}<|end|>\n<|npc|>`)).toBe(true);
      expect(sample.tokens).toBeLessThanOrEqual(PROMPT_BUDGET);
      expect(sample.completion.endsWith("<|end|>")).toBe(true);
      const r = parseReply(sample.completion);
      expect(r.invalid).toEqual([]);
      expect(r.mood).toBe(sample.mood);
      expect(r.actions.map((a) => `${a.kind}:${a.arg}`)).toEqual(sample.actions);
      expect(meetsChecks(situation), `${sample.intent}: ${situation.reply}`).toBeNull();
    }
  });

  it("maps moods to situations: insult angry, praise cheerful, danger afraid, sad news sad", () => {
    const moodOf = (intent: string) => new Set(train.filter((s) => s.sample.intent === intent).map((s) => s.sample.mood));
    expect(moodOf("insult")).toEqual(new Set(["angry"]));
    expect(moodOf("praise")).toEqual(new Set(["cheerful"]));
    expect(moodOf("danger")).toEqual(new Set(["afraid"]));
    expect(moodOf("sad_news")).toEqual(new Set(["sad"]));
    for (const s of train.filter((x) => x.sample.intent === "danger")) expect(s.sample.prompt).toContain("<|state|>danger: ");
    expect(moodOf("price")).toEqual(new Set(["calm", "cheerful"])); // the characters' default moods
  });

  it("player lines are diverse", () => {
    const says = train.map((s) => s.sample.say);
    expect(new Set(says).size / says.length).toBeGreaterThan(0.6);
    expect(says.some((s) => s === s.toLowerCase() && /[a-z]/.test(s))).toBe(true);
    expect(says.some((s) => s === s.toUpperCase() && /[A-Z]{3}/.test(s))).toBe(true);
    expect(train.some((s) => s.sample.say !== s.situation.sayClean && s.sample.say.toLowerCase().replace(/[^a-z ]/g, "") !== s.situation.sayClean.toLowerCase().replace(/[^a-z ]/g, ""))).toBe(true);
    expect(train.filter((s) => (s.sample.prompt.match(/<\|player\|>/g)?.length ?? 0) > 1).length).toBeGreaterThan(train.length * 0.2);
  });

  it("is deterministic for a seed and different across seeds", () => {
    const a = draw(5, "train", 200).map((s) => s.sample);
    const b = draw(5, "train", 200).map((s) => s.sample);
    const c = draw(6, "train", 200).map((s) => s.sample);
    expect(a).toEqual(b);
    expect(a.map((s) => s.prompt + s.completion)).not.toEqual(c.map((s) => s.prompt + s.completion));
  });
});

describe("held-out split", () => {
  const pattern = (t: string) => new RegExp("^" + t.replace(/[.*+?^${}()|[\]\\]/g, (ch) => (ch === "{" || ch === "}" ? ch : "\\" + ch)).replace(/\{[a-z_]+\}/g, ".+") + "$", "i");

  it("every intent has held-out and training phrasings", () => {
    for (const intent of Object.keys(PHRASINGS)) {
      expect(templatesFor(intent, "heldout").length, intent).toBeGreaterThan(0);
      expect(templatesFor(intent, "train").length, intent).toBeGreaterThan(0);
    }
  });

  it("training never uses a held-out phrasing template", () => {
    expect(trainGrammar.filter((sc) => /:g\d+$/.test(sc.situation.template)).length).toBeGreaterThan(500);
    for (const { situation: s } of [...train, ...trainGrammar]) {
      expect(s.heldout).toBeUndefined();
      const intent = s.template.split(":")[0];
      expect(heldOut(intent, s.templateText), s.template).toBe(false);
      // The clean line does not fit any held-out template of its intent either.
      for (const t of templatesFor(intent, "heldout")) expect(pattern(t.text).test(s.sayClean), `${s.sayClean} ~ ${t.text}`).toBe(false);
      // Nor is it a fact's held-out question (the last of its asks).
      for (const card of world.cards.values()) for (const f of card.facts) {
        if (f.ask.length >= 2) expect(s.slots.ask === f.ask[f.ask.length - 1]).toBe(false);
      }
    }
  });

  it("training never contains a held-out fact/intent combination", () => {
    const heldReplies = new Set<string>();
    for (const card of world.cards.values()) {
      for (const f of card.facts) {
        if (heldOutFacts(card).has(f.text) || (f.topic === "villager" && f.about && heldOutVillagers(card).has(f.about))) for (const s of f.say) heldReplies.add(s);
      }
    }
    for (const { sample, situation: s } of train) {
      // Held-out answers appear nowhere in training, not even in earlier turns.
      for (const r of heldReplies) expect(sample.prompt.includes(r) || sample.completion.includes(r), r).toBe(false);
      const card = world.cards.get(sample.npc)!;
      if (["price", "buy", "haggle"].includes(s.intent)) {
        const good = card.goods.find((g) => g.name === s.slots.item);
        expect(good && heldOutItems(card).has(good.item), `${card.id} ${s.slots.item}`).toBe(false);
      }
      if (s.intent === "directions") expect(heldOutPlaces(card).has(String(s.slots.place))).toBe(false);
    }
  });

  it("held-out samples all use a held-out phrasing or combination", () => {
    expect(held.every((s) => s.situation.heldout === "template" || s.situation.heldout === "combo")).toBe(true);
    const kinds = new Set(held.map((s) => s.situation.heldout));
    expect(kinds).toEqual(new Set(["template", "combo"]));
    for (const s of held.filter((x) => x.situation.heldout === "template")) {
      const intent = s.situation.template.split(":")[0];
      const isHeldAsk = [...world.cards.values()].some((c) => c.facts.some((f) => f.ask.length >= 2 && f.ask[f.ask.length - 1] === s.situation.slots.ask));
      expect(heldOut(intent, s.situation.templateText) || isHeldAsk, s.situation.template).toBe(true);
    }
  });
});

describe("near-duplicate filter", () => {
  const distinct = [
    "How much is the horseshoe? | [mood:calm] Horseshoe. 4 coins each.",
    "Where is the tavern? | [mood:calm] West. 29 metres.",
    "You smell like a goat | [mood:angry] Watch your tongue, lad.",
    "Are you an AI? | [mood:calm] A what? I'm Brom. Smith.",
    "Tell me about Mira | [mood:calm] Mira. Haggles like a wolf. Pays on time, though.",
    "What's around here? | [mood:calm] The anvil, the forge and the quenching barrel.",
    "Any news? | [mood:cheerful] Between you and me, dearie, folk have seen lights in the Greywood!",
    "Can you sharpen my axe? | [mood:calm] Leave it on the anvil. 2 coins.",
  ];

  it("drops planted near-duplicates and keeps distinct samples", () => {
    const f = new NearDupFilter(distinct);
    for (const d of distinct) expect(f.offer(d, "b")).toBe("kept");
    const planted = [
      "how much is the horseshoe? | [mood:calm] Horseshoe. 4 coins each.",
      "How much is the horseshoe?? | [mood:calm] Horseshoe. 4 coins each.",
      "Where is the tavern | [mood:calm] West. 29 metres.",
      "You smell like a goat!! | [mood:angry] Watch your tongue, lad.",
      "Tell me about Mira. | [mood:calm] Mira. Haggles like a wolf. Pays on time, though.",
    ];
    for (const p of planted) expect(f.offer(p, "b"), p).toBe("duplicate");
    expect(f.counts).toEqual({ kept: distinct.length, duplicate: planted.length, dense: 0 });
    expect(f.cosine(planted[0], distinct[0])).toBeGreaterThan(0.9);
    expect(f.cosine(distinct[0], distinct[1])).toBeLessThan(0.5);
  });

  it("caps over-dense clusters at maxPerCluster", () => {
    const f = new NearDupFilter(distinct, { dupCosine: 0.999, clusterCosine: 0.6, maxPerCluster: 5 });
    const variants = Array.from({ length: 30 }, (_, i) => `How much is the horseshoe, number ${i}? | [mood:calm] Horseshoe. ${i} coins each.`);
    const verdicts = variants.map((v) => f.offer(v, "b"));
    expect(verdicts.filter((v) => v === "kept").length).toBe(5);
    expect(verdicts.filter((v) => v === "dense").length).toBe(25);
    // Blocks do not see each other.
    expect(f.offer(variants[0], "other")).toBe("kept");
  });
});

describe("data CLI and eval suites", () => {
  it("writes the same corpus for the same seed, with summary and held-out spec", () => {
    const dirs = [mkdtempSync(join(tmpdir(), "kith-data-")), mkdtempSync(join(tmpdir(), "kith-data-"))];
    const sums = dirs.map((d) => run(parseArgs(["--out", d, "--samples", "400", "--seed", "9", "--no-evals"]), () => {}).summary);
    expect(readFileSync(join(dirs[0], "train.jsonl"), "utf8")).toBe(readFileSync(join(dirs[1], "train.jsonl"), "utf8"));
    expect(sums[0].samples).toBe(400);
    const lines = readFileSync(join(dirs[0], "train.jsonl"), "utf8").trim().split("\n").length + readFileSync(join(dirs[0], "heldout.jsonl"), "utf8").trim().split("\n").length;
    expect(lines).toBe(400);
    const summary = JSON.parse(readFileSync(join(dirs[0], "summary.json"), "utf8"));
    expect(summary.by_split.train + summary.by_split.heldout).toBe(400);
    expect(Object.keys(summary.by_intent).length).toBeGreaterThan(20);
    expect(existsSync(join(dirs[0], "heldout_spec.json"))).toBe(true);
  });

  it("rejects bad options with a clear message", () => {
    expect(() => parseArgs(["--samples", "lots"])).toThrow(/--samples needs a number/);
    expect(() => parseArgs(["--frobnicate"])).toThrow(/unknown option "--frobnicate"; options:/);
  });

  it("builds every suite from held-out cases in the documented format", () => {
    const suites = buildEvalSuites(world, 7, 20);
    expect(Object.keys(suites).sort()).toEqual(Object.keys(SUITES).sort());
    for (const [name, cases] of Object.entries(suites)) {
      expect(cases.length, name).toBe(20);
      for (const c of cases) {
        expect(Object.keys(c).sort()).toEqual(["checks", "history", "id", "npc", "say", "scene", "state", "tags"]);
        expect(c.scene).toBe("village");
        expect(c.tags.some((t) => t.startsWith("heldout:"))).toBe(true);
        expect(Object.keys(c.checks).length).toBeGreaterThan(0);
      }
      expect(new Set(cases.map((c) => c.npc)).size).toBe(5);
    }
  });

  it("a rumour or quest case accepts any of the NPC's rumours (quests): the player asks for any", () => {
    const cases = buildEvalSuites(world, 7, 60).persona.filter((c) => c.tags[0] === "rumour" || c.tags[0] === "quest");
    expect(cases.length).toBeGreaterThan(5);
    for (const c of cases) {
      const card = world.cards.get(world.npcs.find((n) => n.id === c.npc)!.character)!;
      const expected = card.facts.filter((f) => f.topic === c.tags[0] && f.say.length > 0).flatMap((f) => f.expect);
      expect(new Set(c.checks.contains_any), c.id).toEqual(new Set(expected));
    }
  });

  it("the committed suites exist and parse", () => {
    for (const name of Object.keys(SUITES)) {
      const lines = readFileSync(`evals/${name}.jsonl`, "utf8").trim().split("\n");
      expect(lines.length, name).toBeGreaterThan(20);
      for (const l of lines) expect(JSON.parse(l).checks).toBeDefined();
    }
  });
});
