// The lore check (core/prompt/lore-check.ts): which lines ask about a card fact, which fact, when a
// reply says it, and what is said when none does. The cards are the village's own; the player lines
// are phrasings of this file's, in neither the evaluation suites nor the data engine's lists.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseCharacterCardJson, type CharacterCard } from "../core/character/schema.ts";
import { answerWords, askedFacts, asksSomething, asksToActOrForTheWay, asksWhoYouAre, loreCheckFor, says, withoutAddress } from "../core/prompt/lore-check.ts";

const card = (id: string) => parseCharacterCardJson(readFileSync(`adapters/${id}/character.json`, "utf8"), id);
const brom = card("brom"), hilde = card("hilde"), wen = card("wen"), mira = card("mira"), aldric = card("aldric");
const aliases = { brom: "blacksmith Brom Ironhand", hilde: "innkeeper Hilde Barrow", wen: "herbalist Old Wen", mira: "merchant Mira Vell", aldric: "guard Aldric Thorne" };
const asked = (c: CharacterCard, line: string) => askedFacts(c, withoutAddress(c, line), aliases).map((f) => f.text);

describe("which lines ask something", () => {
  it("reads questions with and without a question mark, not exclamations or the player's own news", () => {
    for (const l of ["so who keeps the rules round here", "tell me, does the forge ever go cold?", "I've been meaning to ask, is the stew any good?", "any rumours going round"]) expect(asksSomething(l), l).toBe(true);
    for (const l of ["What a grumpy smith you are", "my cart broke?!", "I'm off to the well.", "Nice hammer."]) expect(asksSomething(l), l).toBe(false);
  });

  it("knows a request to act or for the way from a question about lore", () => {
    for (const l of ["could you hand me those nails", "walk me over to the tavern", "where exactly is the herb hut?", "how do I get to Millbrook from here", "which way to the gate", "is the forge far from here?"]) expect(asksToActOrForTheWay(l), l).toBe(true);
    for (const l of ["can you tell me who runs the council?", "where did your hammer come from?", "when do you close up shop?"]) expect(asksToActOrForTheWay(l), l).toBe(false);
  });

  it("knows when a player asks who the NPC is", () => {
    for (const l of ["and who might you be? who are you?", "what should I call you", "whats ur name", "so what's your line of work?", "what do you do all day?", "intrroduce yoursself pls"]) expect(asksWhoYouAre(l), l).toBe(true);
    for (const l of ["what do you do with the herbs?", "who are they?", "do you know my name?"]) expect(asksWhoYouAre(l), l).toBe(false);
  });

  it("takes the NPC's name said to it off the line", () => {
    expect(withoutAddress(wen, "Old Wen, how old are you?")).toBe("how old are you?");
    expect(withoutAddress(brom, "so what do you burn, Brom?")).toBe("so what do you burn?");
    expect(withoutAddress(hilde, "sorry Hilde Barrow: who built this place?")).toBe("who built this place?");
    // and a courtesy after the question, not a word of the question itself
    expect(withoutAddress(hilde, "is the mill far from here? thank you!")).toBe("is the mill far from here?");
    expect(withoutAddress(hilde, "thanks")).toBe("thanks");
    expect(withoutAddress(hilde, "what do you serve, friend?")).toBe("what do you serve, friend?");
  });
});

describe("askedFacts", () => {
  it("finds the fact a fresh phrasing asks about", () => {
    expect(asked(brom, "what name did you give your hammer?")).toEqual(["Brom's hammer is named Old Temper."]);
    expect(asked(hilde, "what goes into your stew, then?")).toEqual(["Hilde's stew is rabbit and turnip, made fresh every morning."]);
    expect(asked(aldric, "any chance I could build a fire out here?")).toEqual(["No fires may be lit outside a hearth or the forge."]);
    expect(asked(wen, "Old Wen, how many years have you seen? how old are you")).toEqual(["Old Wen is eighty-one years old, the eldest in Oakhollow."]);
    expect(asked(mira, "what's your take on the innkeeper?")).toEqual(["Hilde Barrow is Mira's best friend and they trade gossip every evening."]);
    // One of the fact's own questions inside the line, though every word of it is a stop word.
    expect(asked(mira, "so where are you from, originally?")).toEqual(["Mira was born in Millbrook, the market town down the south road."]);
    expect(asksToActOrForTheWay("where are you from?")).toBe(false);
    // The card's own question wins over the reader of directions: "how far is Millbrook?" is Aldric's road fact.
    expect(loreCheckFor(aldric, "so how far is Millbrook?", { aliases })!.agrees("[mood:calm] Half a day's walk, citizen.")).toEqual([]);
    expect(loreCheckFor(aldric, "how far is the well?", { aliases })).toBeNull();
  });

  it("mends a plain typo in a long word, not in a short one", () => {
    expect(asked(aldric, "who is in cahrge of the rules round here?")).toEqual(["The village council of elders, headed by Old Wen, makes the rules."]);
    expect(asked(aldric, "who is in cahrge here?")).toEqual(["The village council of elders, headed by Old Wen, makes the rules."]);
    expect(asked(mira, "is the forge still hot?")).toEqual([]); // "still" is not "stall"
  });

  it("a question by topic takes every fact of that topic, the best first", () => {
    expect(asked(aldric, "heard any gossip about the road?")).toEqual([
      "Wolves have been sighted on the south road after dusk.",
      "A stranger in a grey cloak was seen near the fence two nights ago.",
    ]);
    expect(asked(brom, "got any jobs going?")).toEqual(["Brom needs a sack of charcoal from the hay cart near the gate."]);
  });

  it("news asked in passing takes the rumours; a topic asked for without a question is asked all the same", () => {
    const rumours = aldric.facts.filter((f) => f.topic === "rumour").map((f) => f.text);
    for (const l of ["Heard anything interesting lately?", "so what's the talk of the village these days", "what are people gossiping about?", "ok, anything I should know?"]) {
      expect(loreCheckFor(aldric, l, { aliases })?.kind, l).toBe("lore");
      expect(asked(aldric, l), l).toEqual(expect.arrayContaining(rumours));
    }
    for (const l of ["I'm looking for work, any chance?", "got a job for a traveller?", "need any help round here"]) {
      expect(asksSomething(l), l).toBe(true);
      expect(asked(brom, l), l).toEqual(["Brom needs a sack of charcoal from the hay cart near the gate."]);
    }
    // "Did you hear that?" is no news question.
    expect(loreCheckFor(brom, "did you hear that?", { aliases })).toBeNull();
  });

  it("who the NPC is, asked in more ways, before any reader of the surroundings", () => {
    for (const l of ["so, tell me a little about yourself", "are you from around here, friend?", "and you are?", "which line of work are you in, then?", "who am I speakin to"]) {
      expect(asksWhoYouAre(l), l).toBe(true);
      expect(loreCheckFor(wen, l, { aliases })?.agrees("[mood:calm] Old Wen, the herbalist, little sprout."), l).toEqual([]);
    }
  });

  it("an opinion of a villager, the deal with one, gossip asked for and 'about you' are lore; a long walk is the way", () => {
    expect(asksToActOrForTheWay("what would you think of the guard?")).toBe(false);
    expect(asksToActOrForTheWay("would you walk with me?")).toBe(true);
    expect(asked(hilde, "what would you think of the guard?").join(" ")).toMatch(/Aldric/);
    expect(asked(hilde, "so what's the deal with the blacksmith")).not.toEqual([]);
    expect(asked(hilde, "so what's the deal with the blacksmith").join(" ")).toMatch(/Brom/);
    expect(loreCheckFor(aldric, "go on, give me some gossip", { aliases })).not.toBeNull();
    for (const l of ["tell me a bit about you.", "tell me about u"]) expect(asksWhoYouAre(l), l).toBe(true);
    expect(asksWhoYouAre("tell me about your stew")).toBe(false);
    expect(asksToActOrForTheWay("is the mill a long walk from here?")).toBe(true);
    expect(asksToActOrForTheWay("i'm trying to find the mill")).toBe(true);
    expect(asksToActOrForTheWay("i'm looking for a job")).toBe(false);
    // An offer of help asks for the card's quests.
    expect(asked(brom, "hmm, anything i could do for you?").length).toBeGreaterThan(0);
    expect(loreCheckFor(brom, "hmm, anything i could do for you?", { aliases })).not.toBeNull();
    expect(asked(brom, "anything i could do for you about the price of swords?")).toEqual([]);
    // "a deal" is still a trade word: "what's the deal on boots?" asks no fact.
    expect(asked(mira, "what's your best deal on boots?")).toEqual([]);
  });

  it("asks about no fact for trade lines, surroundings, small talk or a word every fact shares", () => {
    for (const [c, l] of [[brom, "how much do you want for the axe?"], [hilde, "what's near you?"], [brom, "did you hear that?"], [wen, "what's the village like?"], [mira, "what do you reckon about the weather"]] as const) {
      expect(loreCheckFor(c, l, { aliases }), l).toBeNull();
    }
  });
});

describe("loreCheckFor", () => {
  it("a reply agrees when it says one of the fact's expected words; else the fact in the card's words, in the reply's mood", () => {
    const check = loreCheckFor(brom, "how long have you been smithing?", { aliases })!;
    expect(check.kind).toBe("lore");
    expect(check.agrees("[mood:calm] Thirty years, lad.")).toEqual([]);
    expect(check.agrees("[mood:calm] Since I was 30.")).toEqual([]);
    expect(check.agrees("[mood:calm] Ore cart's late.")).toEqual(['does not say thirty or 30 ("Brom has worked the Oakhollow forge for thirty years.")']);
    expect(check.voice!("[mood:angry] Ore cart's late.")).toBe("[mood:angry] Thirty years. Same forge.");
    expect(check.voice!("Ore cart's late.")).toBe(`[mood:${brom.defaultMood}] Thirty years. Same forge.`);
    expect(loreCheckFor(brom, "how long have you been smithing?", { aliases, pick: 1 })!.voice!("[mood:calm] x")).toBe("[mood:calm] Thirty years at this anvil. Aye.");
  });

  it("an echo of the question is no answer: the expected words the question says do not count", () => {
    const check = loreCheckFor(wen, "who leads the village council?", { aliases })!;
    expect(check.agrees("[mood:calm] Ahh, the council. Bitter, but it lifts the drooping stem.")).toHaveLength(1);
    expect(check.agrees("[mood:calm] I head the elders, little sprout.")).toEqual([]);
    // Words the question does not say still count as the card has them.
    expect(loreCheckFor(wen, "are you on the council?", { aliases })!.agrees("[mood:calm] I lead it, seedling.")).toEqual([]);
  });

  it("who the NPC is: its name or its trade agrees; else one of its introductions", () => {
    const check = loreCheckFor(hilde, "and who might you be?", { aliases })!;
    expect(check.agrees("[mood:cheerful] I'm Hilde, love!")).toEqual([]);
    expect(check.agrees("[mood:cheerful] Just the innkeeper, dearie.")).toEqual([]);
    expect(check.agrees("[mood:cheerful] Pie's hot!")).toHaveLength(1);
    expect(hilde.lines.introduce).toContain(check.voice!("[mood:cheerful] Pie's hot!").replace("[mood:cheerful] ", ""));
  });

  it("nothing is checked in danger", () => {
    expect(loreCheckFor(brom, "what's your name?", { aliases })).not.toBeNull();
    expect(loreCheckFor(brom, "what's your name?", { aliases, state: "danger: wolves at the gate" })).toBeNull();
  });

  it("a card fact without expected words or lines: its names and numbers must be said, and it is said in the first person", () => {
    const raw = JSON.parse(readFileSync("adapters/brom/character.json", "utf8"));
    raw.facts = [...raw.facts, { text: "Brom keeps 14 geese in a pen behind the Kettlewick mill.", topic: "self", ask: ["do you keep any animals?"] }];
    const made = parseCharacterCardJson(JSON.stringify(raw), "brom");
    const fact = made.facts.at(-1)!;
    expect(answerWords(made, fact, "do you keep geese?")).toEqual(["14", "Kettlewick"]);
    const check = loreCheckFor(made, "any geese at your place?", { aliases })!;
    expect(check.agrees("[mood:calm] Fourteen. Loud.")).toHaveLength(1);
    expect(check.agrees("[mood:calm] 14 of them.")).toEqual([]);
    expect(check.voice!("[mood:calm] Hmph.")).toBe("[mood:calm] I keep 14 geese in a pen behind the Kettlewick mill.");
  });

  it("says: numbers whole, words with their endings", () => {
    expect(says("He haggles hard", "haggle")).toBe(true);
    expect(says("20 coins", "2")).toBe(false);
    expect(says("2 coins", "2")).toBe(true);
    expect(says("next week, they say", "next week")).toBe(true);
    expect(says("the catch", "cat")).toBe(false);
  });
});

describe("npm run eval:lore-coverage (every text-path check)", () => {
  it("counts, per intent, the lines the check applies to and the samples' own replies it would fail", async () => {
    const { execFileSync } = await import("node:child_process");
    const { mkdtempSync, writeFileSync, readFileSync: read } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "kith-lore-"));
    const samples = [
      { npc: "brom", intent: "fact", say: "been at the forge long, then?", completion: "[mood:calm] Thirty years. Same forge.<|end|>" },
      { npc: "brom", intent: "fact", say: "been at the forge long, then?", completion: "[mood:calm] Ore cart's late.<|end|>" },
      { npc: "hilde", intent: "greet", say: "hello there!", completion: "[mood:cheerful] Hello, dearie!<|end|>" },
      { npc: "wen", intent: "price", say: "what does the sleep tea cost?", completion: "[mood:calm] Three coins.<|end|>" },
      { npc: "brom", intent: "emote", say: "go on, wave", completion: "[mood:calm] Aye. [emote:wave]<|end|>" },
      { npc: "brom", intent: "emote", say: "nod for me", completion: "[mood:calm] Fine.<|end|>" },
    ];
    writeFileSync(join(dir, "d.jsonl"), samples.map((x) => JSON.stringify(x)).join("\n") + "\n");
    const out = join(dir, "cov.json");
    const stdout = execFileSync(join("node_modules", ".bin", "tsx"), ["training/eval/lore-coverage.ts", "--data", join(dir, "d.jsonl"), "--out", out], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const summary = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(summary).toEqual(JSON.parse(read(out, "utf8")));
    expect(summary.by_intent).toEqual({
      fact: { lines: 2, checked: 2, own_reply_fails: 1, kinds: { lore: 2 } },
      greet: { lines: 1, checked: 0, own_reply_fails: 0, kinds: {} },
      price: { lines: 1, checked: 1, own_reply_fails: 0, kinds: { lore: 1 } },
      emote: { lines: 2, checked: 2, own_reply_fails: 1, kinds: { act: 2 } },
    });
    expect(summary).toMatchObject({
      samples: 6, lore_lines: 2, lore_checked: 1, lore_own_reply_fails: 0.5, trade_lines: 1, trade_checked: 1, trade_own_reply_fails: 0,
      act_lines: 2, act_checked: 1, act_own_reply_fails: 0.5, near_lines: 0, other_lines: 1, other_checked: 0,
    });
  });
});
