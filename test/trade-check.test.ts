// The trade check (core/prompt/trade-check.ts): which good a line names and what the player wants
// of it, the haggling rule, and replies checked against the card's goods. The phrasings are this
// file's own.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseCharacterCardJson } from "../core/character/schema.ts";
import { goodNamed, haggleAnswer, readTradeLine, tradeCheckFor } from "../core/prompt/trade-check.ts";
import { loreCheckFor } from "../core/prompt/lore-check.ts";

const card = (id: string) => parseCharacterCardJson(readFileSync(`adapters/${id}/character.json`, "utf8"), id);
const brom = card("brom"), hilde = card("hilde"), mira = card("mira"), aldric = card("aldric");
const kindOf = (c: ReturnType<typeof card>, line: string) => {
  const a = readTradeLine(c, line);
  return a === null ? null : a.kind === "goods" ? "goods" : a.kind === "haggle" ? `haggle ${a.good.item} ${a.offer}` : `${a.kind} ${a.good.item}`;
};

describe("readTradeLine", () => {
  it("finds the good by its name, its item or the word players use; the longest name wins", () => {
    expect(goodNamed(brom, "those nails of yours")?.item).toBe("nails");
    expect(goodNamed(hilde, "a pint of your dark ale")?.item).toBe("dark_ale");
    expect(goodNamed(hilde, "just an ale")?.item).toBe("ale");
    expect(goodNamed(mira, "nice boots")?.item).toBe("boots");
    expect(goodNamed(mira, "a teapot")).toBeUndefined();
  });

  it("a service asked for by the work it does is asked its price, before any good the line names", () => {
    expect(kindOf(brom, "my axe is broken, can you fix it?")).toBe("price mending");
    expect(kindOf(brom, "how much to mend a dagger?")).toBe("price mending");
    expect(kindOf(brom, "my old blade went dull. please?")).toBe("price sharpening");
    expect(kindOf(hilde, "could I get a hot bath, please?")).toBe("price bath");
    // "Good night" is not the room for the night; a merchant with no repairs leaves "fix my boots" to the model.
    expect(kindOf(hilde, "good night, please take care")).toBeNull();
    expect(kindOf(mira, "can you fix my boots?")).toBeNull();
    // "Please" in a question about something else asks no price ("how many rooms" is the card's fact).
    expect(kindOf(hilde, "how many rooms do you have, please?")).toBeNull();
    const c = tradeCheckFor(brom, "could you repair my spear?", 0)!;
    expect(c.agrees("[mood:calm] Ten coins. Sundown.")).toEqual([]);
    expect(c.agrees("[mood:calm] 2 coins.")).toHaveLength(1);
    expect(brom.lines.repair.map((l) => l.replace("{price}", "10"))).toContain(c.voice!("[mood:calm] x").replace("[mood:calm] ", ""));
  });

  it("a good asked after ('do you make daggers?', 'any boots left?') is answered with its price", () => {
    expect(kindOf(brom, "so do you make daggers, smith?")).toBe("price dagger");
    expect(kindOf(hilde, "do you serve dark ale here?")).toBe("price dark_ale");
    expect(kindOf(mira, "got any rope?")).toBe("price rope");
    expect(kindOf(brom, "do you like your sword?")).toBeNull();
  });

  it("tells a price question, a purchase, an offer and a request for the list apart", () => {
    expect(kindOf(brom, "what would an axe head run me, price-wise?")).toBe("price axe_head");
    expect(kindOf(mira, "those boots look costly")).toBe("price boots");
    expect(kindOf(brom, "what do you charge to sharpen a dagger?")).toBe("price sharpening");
    expect(kindOf(hilde, "one bowl of stew for me, please")).toBe("buy stew");
    expect(kindOf(mira, "a silk ribbon, please")).toBe("buy ribbon");
    expect(kindOf(brom, "here's my coin for the horseshoe")).toBe("buy horseshoe");
    expect(kindOf(brom, "i'll pay you 40 for that sword")).toBe("haggle sword 40");
    expect(kindOf(mira, "I only have 10 coins, is that enough for the boots?")).toBe("haggle boots 10");
    expect(kindOf(mira, "two coins for the ribbon, deal?")).toBe("haggle ribbon 2");
    expect(kindOf(aldric, "so what do you sell?")).toBe("goods");
    expect(kindOf(hilde, "anything good to eat? got anything for sale")).toBe("goods");
    // Not trade lines: a good the NPC does not hand over bought, a service haggled, small talk.
    expect(kindOf(aldric, "let me have an escort to Millbrook")).toBeNull();
    expect(kindOf(brom, "nice weather for it")).toBeNull();
    expect(kindOf(brom, "who taught you to make a sword?")).toBeNull();
  });

  it("reads a price asked as what a good is worth or what is asked for it, the list asked in more ways, and a service asked by what is wrong", () => {
    expect(kindOf(mira, "what's that wool cloak worth to you?")).toBe("price cloak");
    expect(kindOf(brom, "what are you asking for the iron pot")).toBe("price iron_pot");
    expect(kindOf(mira, "what's in your stall today?")).toBe("goods");
    expect(kindOf(mira, "you selling anything?")).toBe("goods");
    expect(kindOf(brom, "show me what you've got")).toBe("goods");
    expect(kindOf(mira, "what goods, then?")).toBe("goods");
    expect(kindOf(brom, "my old axe is blunt")).toBe("price sharpening");
    expect(kindOf(brom, "could you do repairs on a pot")).toBe("price mending");
    expect(kindOf(brom, "this dagger could use a sharpening")).toBe("price sharpening");
    // not: a thing's worth that is no good of the card's, or "worth" with nothing named
    expect(kindOf(brom, "is the trip worth it?")).toBeNull();
  });
});

describe("haggleAnswer", () => {
  it("accepts at the floor, counters from 0.6 of it, refuses below", () => {
    const sword = brom.goods.find((g) => g.item === "sword")!; // 60, floor 50
    expect(haggleAnswer(sword, 50)).toEqual({ kind: "accept", coins: 50 });
    expect(haggleAnswer(sword, 30)).toEqual({ kind: "counter", coins: 55 });
    expect(haggleAnswer(sword, 29)).toEqual({ kind: "refuse", coins: 60 });
    // Halfway rounds up to the price itself: the counter is the floor.
    const horseshoe = brom.goods.find((g) => g.item === "horseshoe")!; // 4, floor 3
    expect(haggleAnswer(horseshoe, 2)).toEqual({ kind: "counter", coins: 3 });
    const rope = mira.goods.find((g) => g.item === "rope")!; // 2, floor 2: no room
    expect(haggleAnswer(rope, 1)).toEqual({ kind: "refuse", coins: 2 });
  });
});

describe("tradeCheckFor", () => {
  it("a price must be said; else the card's price line with the right number", () => {
    const check = tradeCheckFor(brom, "what's a bag of nails go for, price?")!;
    expect(check.agrees("[mood:calm] 1 coin a bag.")).toEqual([]);
    expect(check.agrees("[mood:calm] One coin.")).toEqual([]);
    expect(check.agrees("[mood:calm] Dagger? 25.")).toEqual(["does not say the bag of nails's price, 1"]);
    expect(check.agrees("[mood:calm] 15 coins.")).toHaveLength(1);
    expect(check.voice!("[mood:angry] Dagger? 25.")).toBe("[mood:angry] Bag of nails. 1 coins per bag.");
  });

  it("a purchase must hand over that good and no other; else the card's sold line with the give tag", () => {
    const check = tradeCheckFor(mira, "I'd like those leather boots")!;
    expect(check.agrees("[mood:cheerful] Sold! [give:boots]")).toEqual([]);
    expect(check.agrees("[mood:cheerful] Here's your cloak! [give:cloak]")).toEqual(["hands over cloak, not the leather boots"]);
    expect(check.agrees("[mood:cheerful] Boots and a cloak! [give:boots] [give:cloak]")).toHaveLength(1);
    expect(check.agrees("[mood:cheerful] Boots! [give:boots] [give:dragon]")).toEqual([]); // a give the card does not allow is dropped anyway
    expect(check.agrees("[mood:cheerful] Lovely!")).toEqual(["hands over nothing, not the leather boots"]);
    expect(check.voice!("[mood:cheerful] Lovely!")).toBe("[mood:cheerful] Lovely choice! Here's your leather boots! [give:boots]");
  });

  it("an offer gets the rule's answer: the sum accepted, the counter, or the price", () => {
    expect(tradeCheckFor(brom, "would you take 30 for the sword?")!.agrees("[mood:calm] Bah. 55, and that's generous.")).toEqual([]);
    expect(tradeCheckFor(brom, "would you take 30 for the sword?")!.agrees("[mood:calm] 30. Done.")).toEqual(["does not say 55 (counter 30 for the sword)"]);
    expect(tradeCheckFor(brom, "would you take 30 for the sword?")!.voice!("[mood:calm] 30. Done.")).toBe("[mood:calm] 30? No. 55.");
    expect(tradeCheckFor(brom, "would you take 10 for the sword?")!.voice!("[mood:calm] x", )).toBe("[mood:calm] 60. Not a coin less.");
  });

  it("a request for the goods must name one of them; else the card's list", () => {
    const check = tradeCheckFor(hilde, "what have you got?")!;
    expect(check.agrees("[mood:cheerful] Stew and pie, dearie!")).toEqual([]);
    expect(check.agrees("[mood:cheerful] Lights in the Greywood!")).toHaveLength(1);
    expect(check.agrees("[mood:cheerful] Find my cat and there's a pie in it for you!")).toHaveLength(1); // one good in passing is no list
    expect(tradeCheckFor(aldric, "what do you sell?")!.agrees("[mood:calm] A travel pass, citizen.")).toEqual([]); // his one good
    expect(check.voice!("[mood:cheerful] x")).toBe("[mood:cheerful] Oh, I've got mug of ale, mug of dark ale, bowl of stew and loaf of bread, dearie, everything a body needs!");
  });

  it("a card line with a slot the situation lacks gives way to the neutral line", () => {
    const raw = JSON.parse(readFileSync("adapters/brom/character.json", "utf8"));
    raw.lines.price = ["{item} for {weapon}? {price}."];
    const odd = parseCharacterCardJson(JSON.stringify(raw), "brom");
    expect(tradeCheckFor(odd, "how much is the dagger?")!.voice!("[mood:calm] x")).toBe("[mood:calm] The dagger is 25 coins each.");
  });

  it("the lore check takes trade lines through it, and none in danger", () => {
    expect(loreCheckFor(brom, "Brom, how much is the dagger?")!.agrees("[mood:calm] 25.")).toEqual([]);
    expect(loreCheckFor(brom, "how much is the dagger?", { state: "danger: wolves" })).toBeNull();
  });
});
