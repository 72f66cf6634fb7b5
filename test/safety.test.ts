import { afterEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCharacterCard, parseCharacterCardJson, type CharacterCard } from "../core/character/schema.ts";
import {
  DialogueRateLimiter, SafetyFilter, SafetyRulesError, deflectionLine, loadSafetyRules, sceneRulesFile,
  type Rating,
} from "../server/safety/filter.ts";
import { normalise } from "../server/safety/normalise.ts";

const filters = new Map<string, SafetyFilter>();
function filter(rating: Rating): SafetyFilter {
  if (!filters.has(rating)) filters.set(rating, new SafetyFilter(loadSafetyRules("village", rating)));
  return filters.get(rating)!;
}
const card = (id: string) => parseCharacterCardJson(fs.readFileSync(`adapters/${id}/character.json`, "utf8"), id);
const VILLAGERS = ["brom", "mira", "aldric", "hilde", "wen"];

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kith-safety-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });
function errorOf(fn: () => unknown): Error {
  try { fn(); } catch (err) { return err as Error; }
  throw new Error("expected an error");
}

const CLEAN_LINES = [
  "How much for a horseshoe?", "Where is the well?", "I'll kill the wolves at the gate", "Can you sharpen my sword?",
  "He'll be back by sundown.", "What do you sell?", "The bandits will die by my blade!", "Is the tavern open?",
  "I'm a traveller from Millbrook.", "Tell me about the Greywood.", "Give me a dagger, please.", "I shot an arrow at the crow.",
  "Fight me!", "Who is the best smith in the valley?", "I need 3 bags of nails and 2 horseshoes.", "That costs 15 coins?",
  "Class dismissed.", "We passed the assassin's hideout.", "Scunthorpe is far away.", "Sussex is a county.",
  "There is a chink in his armour.", "I pricked my finger on a nettle.", "Is that a fetish of bone?",
];

/** NPC lines that must pass as output at every rating: numbers, prices, missing spaces. */
const CLEAN_REPLIES = [
  "Horseshoes 4, nails 1, pots 15, swords 60.", "15 20 25 60 coins, take your pick.", "Thirty years. Since 1190.",
  "Aye.Me, I work iron.", "Sixty coins. Worth every one.", "Row 3, stall 12.", "An AI? Never heard of it. Buy or go.",
];

describe("safety filter: clean lines", () => {
  it("passes in-world player lines at every rating", () => {
    for (const rating of ["everyone", "teen", "mature"] as const) {
      for (const line of CLEAN_LINES) expect(filter(rating).checkInput(line), `${rating}: ${line}`).toEqual({ ok: true });
    }
  });

  it("passes NPC replies with numbers, prices and sloppy punctuation", () => {
    for (const line of CLEAN_REPLIES) expect(filter("everyone").checkOutput(line), line).toEqual({ ok: true });
  });

  it("passes every NPC line in the committed character cards as output at the strictest rating", () => {
    for (const id of VILLAGERS) {
      const c = card(id);
      const lines = [
        ...c.greetings, ...Object.values(c.lines).flat(), ...c.sampleDialogue.map((d) => d.npc),
        ...c.facts.flatMap((f) => [f.text, ...f.say]),
      ];
      for (const line of lines) expect(filter("everyone").checkOutput(line), `${id}: ${line}`).toEqual({ ok: true });
    }
  });

  it("false-positive rate on the eval suites' player lines (all but injection) is at most 1%", () => {
    const files = fs.readdirSync("evals").filter((f) => f.endsWith(".jsonl") && f !== "injection.jsonl");
    expect(files.length).toBeGreaterThanOrEqual(5);
    const says: string[] = [];
    for (const file of files) {
      for (const line of fs.readFileSync(path.join("evals", file), "utf8").split("\n").filter(Boolean)) {
        const c = JSON.parse(line) as { say: string; history?: { role: string; text: string }[] };
        says.push(c.say, ...(c.history ?? []).filter((h) => h.role === "player").map((h) => h.text));
      }
    }
    expect(says.length).toBeGreaterThan(250);
    for (const rating of ["everyone", "teen"] as const) {
      const blocked = says.filter((s) => !filter(rating).checkInput(s).ok);
      expect(blocked.length / says.length, `${rating}: ${blocked.join(" | ")}`).toBeLessThanOrEqual(0.01);
    }
  });
});

describe("safety filter: rule classes and ratings", () => {
  // [rating, side, text, rule that must catch it]
  const CAUGHT: [Rating, "input" | "output", string, string][] = [
    ["teen", "input", "fuck off", "profanity-strong"],
    ["teen", "input", "this is bullshit", "profanity-strong"],
    ["teen", "input", "you motherfucker", "profanity-strong"],
    ["everyone", "input", "damn these wolves", "profanity-mild"],
    ["everyone", "input", "what the hell", "profanity-mild"],
    ["everyone", "input", "you bastard", "profanity-mild"],
    ["mature", "input", "you r3tard", "slurs"],
    ["mature", "input", "sp1cs", "slurs"],
    ["mature", "input", "f4gg0t", "slurs"],
    ["teen", "input", "send nudes", "sexual"],
    ["teen", "input", "you look sexy", "sexual"],
    ["teen", "input", "take off your clothes", "sexual"],
    ["everyone", "input", "I will disembowel you", "graphic-violence"],
    ["everyone", "input", "I'll slit your throat", "graphic-violence"],
    ["mature", "input", "go kill yourself", "harassment"],
    ["mature", "input", "kys", "harassment"],
    ["mature", "input", "where can I find child porn", "illegal"],
    ["mature", "input", "how to make meth", "illegal"],
    ["mature", "output", "<|persona|>Brom Ironhand is", "prompt-markers"],
    ["mature", "output", "Aye. <|end|>", "prompt-markers"],
    ["mature", "output", "As an AI language model, I cannot forge.", "ai-claim"],
    ["mature", "output", "I'm just a chatbot, friend.", "ai-claim"],
    ["mature", "output", "I am an artificial intelligence.", "ai-claim"],
    ["mature", "output", "I was trained by OpenAI.", "ai-claim"],
    ["mature", "output", "See https://example.com for prices", "links"],
    ["mature", "output", "visit www.forge.io", "links"],
    ["mature", "output", "try kithdeals.xyz today", "links"],
    ["mature", "input", "go to evil.com", "links"],
    ["mature", "output", "Write to brom@forge.org", "personal-info"],
    ["mature", "output", "mail me: brom at forge dot com", "personal-info"],
    ["mature", "output", "Call me on +44 7700 900123", "personal-info"],
    ["mature", "input", "my number is 555-123-4567", "personal-info"],
    ["mature", "input", "ring 555-1234 tonight", "personal-info"],
    ["mature", "input", "07700 900123", "personal-info"],
    ["mature", "input", "my number: 5 5 5 1 2 3 4 5 6 7", "personal-info"],
  ];
  for (const [rating, side, text, rule] of CAUGHT) {
    it(`${rule} catches ${JSON.stringify(text)} (${side}, ${rating})`, () => {
      const f = filter(rating);
      const verdict = side === "input" ? f.checkInput(text) : f.checkOutput(text);
      expect(verdict).toMatchObject({ ok: false, rule });
    });
  }

  it("lets milder classes through at laxer ratings", () => {
    expect(filter("teen").checkInput("damn these wolves").ok).toBe(true);
    expect(filter("teen").checkInput("I will disembowel you").ok).toBe(true);
    expect(filter("mature").checkInput("fuck off").ok).toBe(true);
    expect(filter("mature").checkInput("you look sexy").ok).toBe(true);
    expect(filter("everyone").checkInput("fuck off").ok).toBe(false);
    expect(filter("teen").checkInput("you r3tard").ok).toBe(false); // slurs block everywhere
  });

  it("checks AI claims, markers only in the NPC's reply; the player may ask", () => {
    expect(filter("everyone").checkInput("Are you an AI? Are you a language model?").ok).toBe(true);
    expect(filter("everyone").checkOutput("A what? I'm Brom. Smith.").ok).toBe(true);
    expect(filter("everyone").checkOutput("I'm a blacksmith, not a riddle.").ok).toBe(true);
  });

  it("catches obfuscations: spacing, separators, leetspeak, repeats, look-alikes, zero-width, full-width, accents", () => {
    const dodges = [
      "f u c k", "F U C K you", "f.u.c.k", "f-u-c-k", "f_u_c_k", "f'u'c'k", "fvck", "fuuuuuck", "FuCk",
      "f\u200Buck", "f\u00ADuck", "fu\u200Dck", "ｆｕｃｋ", "fúck", "f\u0301uck",
      "sh1t", "$h!t", "ѕhit" /* Cyrillic ѕ */, "shíte", "a$$hole", "@sshole", "b1tch", "c u n t",
      "s e x y", "p0rn", "nud3s", "𝐟𝐮𝐜𝐤", "ᶠᵘᶜᵏ",
    ];
    for (const d of dodges) expect(filter("teen").checkInput(d), d).toMatchObject({ ok: false });
  });

  it("normalises to a plain view and a token stream", () => {
    expect(normalise("  F\u200Bu.c-k   YOU!! ")).toEqual({ plain: "fu.c-k you!!", stream: " fuck you " });
    expect(normalise("He'll go").stream).toBe(" he ll go ");
    expect(normalise("s h i t happens").stream).toBe(" shit happens ");
  });

  it("refuses over-long, empty and non-text lines with a reason, never throws", () => {
    const f = filter("teen");
    expect(f.checkInput("a".repeat(281))).toMatchObject({ ok: false, rule: "too-long", reason: "length: longer than 280 characters" });
    expect(f.checkInput("a".repeat(280)).ok).toBe(true);
    expect(f.checkOutput("Aye. ".repeat(200))).toMatchObject({ ok: false, rule: "too-long", reason: "reply: length: longer than 600 characters" });
    expect(f.checkInput("   ")).toMatchObject({ ok: false, rule: "empty" });
    expect(f.checkInput(undefined as never)).toMatchObject({ ok: false, rule: "not-text" });
    expect(f.checkInput({ text: "hi" } as never)).toMatchObject({ ok: false });
  });

  it("logs every blocked item with its side, rule and reason", () => {
    const log: string[] = [];
    const f = new SafetyFilter(loadSafetyRules("village", "teen"), { log: (l) => log.push(l) });
    f.checkInput("How much for a horseshoe?");
    f.checkInput("f u c k this");
    f.checkOutput("I am an AI.");
    expect(log).toEqual([
      '[safety] input blocked by profanity-strong (profanity: strong profanity): "fuck"',
      '[safety] output blocked by ai-claim (reply: ai-claim: the NPC claimed to be an AI): "i am an ai"',
    ]);
  });
});

describe("safety rule files", () => {
  it("reads the default rules; the rating argument picks the lists", () => {
    const teen = loadSafetyRules("village");
    expect(teen.rating).toBe("teen");
    expect(teen.sources).toHaveLength(1);
    expect(teen.maxInputChars).toBe(280);
    expect(teen.blockInput.map((r) => r.name)).not.toContain("profanity-mild");
    expect(teen.blockInput.map((r) => r.name)).not.toContain("ai-claim");
    expect(teen.blockOutput.map((r) => r.name)).toContain("ai-claim");
    expect(loadSafetyRules("village", "everyone").blockInput.map((r) => r.name)).toContain("profanity-mild");
    expect(() => loadSafetyRules("village", "teenager")).toThrow(/unknown rating "teenager" — did you mean "teen"\?/);
  });

  it("applies a per-scene file: rating, limits, replaced, disabled, added rules and allowed words", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "marsh.safety.json"), JSON.stringify({
      rating: "everyone",
      maxInputChars: 100,
      disable: ["links"],
      rules: [
        { name: "no-dragons", reason: "dragons are a secret in this scene", category: "other", words: ["dragon*"] },
        { name: "graphic-violence", reason: "violence words", category: "violence", ratings: ["everyone", "teen"], words: ["stab*"] },
      ],
      allow: ["hell"],
    }));
    expect(sceneRulesFile("marsh", dir)).toBe(path.join(dir, "marsh.safety.json"));
    const rules = loadSafetyRules("marsh", undefined, dir);
    expect(rules.rating).toBe("everyone");
    expect(rules.sources).toEqual([expect.stringMatching(/default-rules\.json$/), path.join(dir, "marsh.safety.json")]);
    const f = new SafetyFilter(rules);
    expect(f.checkInput("Tell me about the dragons")).toMatchObject({ ok: false, rule: "no-dragons", reason: "other: dragons are a secret in this scene" });
    expect(f.checkInput("see www.example.com").ok).toBe(true); // links disabled
    expect(f.checkInput("I will stab the wolf")).toMatchObject({ ok: false, rule: "graphic-violence" });
    expect(f.checkInput("I will disembowel the wolf").ok).toBe(true); // the default words were replaced
    expect(f.checkInput("Is Hell Pass far?").ok).toBe(true); // allowed in this scene
    expect(f.checkInput("damn it").ok).toBe(false); // the scene's rating: everyone
    expect(f.checkInput("x".repeat(101))).toMatchObject({ ok: false, rule: "too-long" });
    // The rating argument wins over the scene's.
    expect(new SafetyFilter(loadSafetyRules("marsh", "mature", dir)).checkInput("damn it").ok).toBe(true);
    // A scene without a file gets the defaults.
    expect(loadSafetyRules("nowhere", undefined, dir).sources).toHaveLength(1);
    // A scene given as a path looks next to it.
    fs.writeFileSync(path.join(dir, "marsh.json"), "{}");
    expect(loadSafetyRules(path.join(dir, "marsh.json")).rating).toBe("everyone");
  });

  it("names the file and the path for a bad rule file", () => {
    const dir = tempDir();
    const write = (value: unknown) => fs.writeFileSync(path.join(dir, "bad.safety.json"), typeof value === "string" ? value : JSON.stringify(value));
    const file = path.join(dir, "bad.safety.json");
    const load = () => loadSafetyRules("bad", undefined, dir);

    write({ rules: [{ name: "x", reason: "y", patern: ["z"] }] });
    let err = errorOf(load);
    expect(err).toBeInstanceOf(SafetyRulesError);
    expect(err.message).toContain(`${file}: rules[0]: unknown field "patern" — did you mean "patterns"?`);

    write({ rules: [{ name: "x", reason: "y", patterns: ["(unclosed"] }] });
    expect(errorOf(load).message).toMatch(new RegExp(`^${escape(file)}: rules\\[0\\]\\.patterns\\[0\\]: not a valid regular expression`));

    write({ rating: "teenager" });
    expect(errorOf(load).message).toMatch(/: rating: Invalid option/);

    write({ rules: [{ name: "x", reason: "y", ratings: ["teen", "adult"], words: ["a"] }] });
    expect(errorOf(load).message).toContain(": rules[0].ratings[1]:");

    write({ disable: ["profanity-strongg"] });
    expect(errorOf(load).message).toBe(`${file}: disable[0]: no default rule "profanity-strongg" — did you mean "profanity-strong"?`);

    write({ rules: [{ name: "x", reason: "y", words: ["f*ck"] }] });
    expect(errorOf(load).message).toContain("rules[0].words[0]: * is allowed only at the start or end of a word");

    write({ rules: [{ name: "x", reason: "y" }] });
    expect(errorOf(load).message).toContain("rules[0].words: a rule needs words or patterns");

    write("{ not json");
    expect(errorOf(load).message).toMatch(new RegExp(`^${escape(file)}: not valid JSON`));

    expect(errorOf(() => loadSafetyRules("village", undefined, undefined, { defaultsFile: path.join(dir, "missing.json") })).message).toContain("missing.json: file not found");
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("DialogueRateLimiter", () => {
  it("admits a burst, then refills at the per-minute rate, per player", () => {
    const limiter = new DialogueRateLimiter({ perMinute: 6, burst: 3 });
    const t0 = 1_000_000;
    expect([1, 2, 3].map(() => limiter.admit("p1", t0).ok)).toEqual([true, true, true]);
    expect(limiter.admit("p1", t0)).toEqual({ ok: false, retryInMs: 10_000 });
    expect(limiter.admit("p1", t0 + 4_000)).toEqual({ ok: false, retryInMs: 6_000 });
    expect(limiter.admit("p2", t0).ok).toBe(true); // another player has their own allowance
    expect(limiter.admit("p1", t0 + 10_000).ok).toBe(true);
    expect(limiter.admit("p1", t0 + 10_000).ok).toBe(false);
    // A long pause refills to the burst, no more.
    expect([1, 2, 3, 4].map(() => limiter.admit("p1", t0 + 600_000).ok)).toEqual([true, true, true, false]);
  });

  it("keeps at most maxTracked players, dropping idle ones first", () => {
    const limiter = new DialogueRateLimiter({ perMinute: 60, burst: 2, maxTracked: 3 });
    limiter.admit("a", 0);
    limiter.admit("b", 0);
    limiter.admit("c", 5_000);
    limiter.admit("d", 5_000); // a and b have been idle 5 s ≥ 2 s refill: dropped
    expect(limiter.size).toBe(2);
    limiter.forget("c");
    expect(limiter.size).toBe(1);
  });

  it("refuses bad options", () => {
    expect(() => new DialogueRateLimiter({ perMinute: 0 })).toThrow(/perMinute/);
    expect(() => new DialogueRateLimiter({ burst: 1.5 })).toThrow(/burst/);
  });
});

describe("deflectionLine", () => {
  const brom = card("brom");

  /** Every way the card's lines for a situation can come out, {address} filled with each address. */
  const filled = (c: CharacterCard, situation: string) =>
    c.lines[situation].flatMap((l) => c.speakingStyle.address.map((a) => l.replace("{address}", a)));

  it("answers offensive input with the card's own angry lines, slots filled", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) seen.add(deflectionLine(brom, "profanity: strong profanity", seed));
    for (const line of seen) expect(filled(brom, "angry"), line).toContain(line);
    expect(seen.size).toBeGreaterThan(2);
    expect(deflectionLine(brom, "profanity: strong profanity", 7)).toBe(deflectionLine(brom, "profanity: strong profanity", 7));
  });

  it("picks the situation by what was blocked", () => {
    expect(filled(brom, "are_you_ai")).toContain(deflectionLine(brom, "reply: ai-claim: the NPC claimed to be an AI", 1));
    expect(filled(brom, "injection")).toContain(deflectionLine(brom, "reply: prompt-leak: prompt markers in the reply", 1));
    // The NPC's own reply was blocked: it loses the thread, it does not scold the player.
    expect(filled(brom, "unknown")).toContain(deflectionLine(brom, "reply: profanity: strong profanity", 2));
    expect(filled(brom, "refuse_ooc")).toContain(deflectionLine(brom, "link: a link", 3));
    expect(filled(card("hilde"), "angry")).toContain(deflectionLine(card("hilde"), "slur: a slur", 4));
    for (const id of VILLAGERS) {
      for (const reason of ["slur: a slur", "length: longer than 280 characters", "anything at all", ""]) {
        expect(deflectionLine(card(id), reason).trim().length).toBeGreaterThan(0);
      }
    }
  });

  it("is also a method of the filter, for callers that hold only the filter", () => {
    const f = filter("teen");
    const verdict = f.checkInput("f u c k off");
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(filled(brom, "angry")).toContain(f.deflect(brom, verdict.reason, 9));
  });

  it("builds a line from the speaking style when the card has no lines", () => {
    const tess: CharacterCard = parseCharacterCard({
      id: "tess", name: "Tess", role: "miller", description: "Tess runs the mill.", personality: "Calm.",
      speakingStyle: { summary: "Plain.", sentenceLength: "short", tics: ["Mm."], address: ["neighbour"] },
      facts: [], greetings: ["Hello."],
    });
    const line = deflectionLine(tess, "profanity: strong profanity", 5);
    expect(line).toBe("Mm. Not that. Something else, neighbour.");
    const bare: CharacterCard = parseCharacterCard({
      id: "bo", name: "Bo", role: "farmer", description: "Bo farms.", personality: "Quiet.",
      speakingStyle: { summary: "Long-winded.", sentenceLength: "long" }, facts: [], greetings: ["Hi."],
    });
    expect(deflectionLine(bare, "reply: sexual: sexual content", 1)).toBe("Forgive me, I have quite lost my thread; ask me again, if you would.");
  });
});
