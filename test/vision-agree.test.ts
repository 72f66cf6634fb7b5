import { describe, expect, it } from "vitest";
import { sightAnswerLine } from "../core/vision/ask.ts";
import { claims, disagreements, sayPlainly, sightCheckFor, voicePlainly } from "../core/vision/agree.ts";
import { voiceAgreeing } from "../core/prompt/reply-check.ts";
import { sightSummary, type SightFact } from "../core/vision/seen.ts";

// The check of a sight reply against its worked-out answer (core/vision/agree.ts): replies in the
// NPCs' voices that say the answer pass, replies that add, drop, repeat, miscount or turn a thing
// around fail, each with a reason. Answer lines come from the real answer writer (core/vision/ask.ts).

const fact = (label: string, side: "left" | "right", depth: number): SightFact => ({ id: label.replace(" ", "-"), label, side, depth });
const SIGHT = [fact("red barrel", "left", 2.1), fact("grey sack", "right", 3.0), fact("grey sack", "right", 3.6), fact("blue crate", "right", 4.4)];

/** The answer line for `say` over SIGHT, without its lead. */
const answer = (say: string, sight: readonly SightFact[] = SIGHT) => sightAnswerLine(say, sight, "well")!.replace(/^sight answer: /, "");
const check = (say: string, reply: string, sight?: readonly SightFact[]) => disagreements(reply, answer(say, sight), say);

describe("claims", () => {
  it("reads props with colours and counts; denied and asked-back clauses claim nothing", () => {
    expect(claims("[mood:calm] A red barrel, two grey sacks and a blue crate.").props).toEqual([
      { kind: "barrel", colour: "red", count: 1 }, { kind: "sack", colour: "grey", count: 2 }, { kind: "crate", colour: "blue", count: 1 },
    ]);
    expect(claims("Barrels everywhere, gray ones.").props).toEqual([{ kind: "barrel", colour: null, count: null }]);
    expect(claims("No barrels. I don't see a crate. A bucket? Nothing of the sort.").props).toEqual([]);
    expect([...claims("It's red, like a cherry.").colours]).toEqual(["red"]);
  });
});

describe("disagreements", () => {
  it("a list: every thing as often as it is seen, nothing more, and the thing near by", () => {
    expect(answer("what do you see?")).toBe("a red barrel, two grey sacks and a blue crate; near: the well");
    expect(check("what do you see?", "[mood:calm] Hmph. Red barrel, two grey sacks, a blue crate. The well.")).toEqual([]);
    expect(check("what do you see?", "Oh, a red barrel, grey sacks and a blue crate, dearie! And the well!")).toEqual([]);
    expect(check("what do you see?", "A red barrel, two grey sacks and a blue crate.")).toEqual(["leaves out the well"]);
    expect(check("what do you see?", "A red barrel, a grey sack and a blue crate by the well.")).toEqual(["says 1 grey sack, the answer has 2"]);
    expect(check("what do you see?", "A red barrel, two grey sacks, a blue crate and a blue crate. The well.")).toEqual(["says 2 blue crate, the answer has 1"]);
    expect(check("what do you see?", "A red barrel, two grey sacks, a blue crate and a white bucket. The well.")).toEqual(["names a white bucket the answer does not"]);
    expect(check("what do you see?", "Two grey sacks and a blue crate. The well.")).toEqual(["leaves out the red barrel"]);
    expect(check("what do you see?", "A red sack, two grey sacks and a blue crate. The well.")).toEqual(["names a red sack the answer does not", "leaves out the red barrel"]);
    // A denial runs on through a bare list; "but" or an article starts anew.
    expect(check("what do you see?", "I see nothing of note. No barrels, crates, sacks or buckets. The well, near.", [])).toEqual([]);
    expect(check("what do you see?", "No barrels, but a crate. The well.", [])).toEqual(["names a crate the answer does not"]);
    expect(check("what do you see?", "Aye, a barrel. The well.", [])).toEqual(["names a barrel the answer does not"]);
  });

  it("a count, yes or no, a colour, a kind", () => {
    expect(check("how many sacks are there?", "Two. Both grey.")).toEqual([]);
    expect(check("how many sacks are there?", "Three sacks, love!")).toEqual(["says 3, the answer is 2"]);
    expect(check("how many buckets are there?", "None, citizen.")).toEqual([]);
    expect(check("how many buckets are there?", "Aye, a bucket.")).toEqual(["names a bucket the answer does not", "says 1, the answer is 0"]);
    expect(check("how many buckets are there?", "Zero buckets. Aye.")).toEqual([]);
    expect(check("how many grey things are there?", "Two: both sacks.")).toEqual([]);
    expect(check("how many grey things are there?", "A grey sack and a white crate.")).toEqual(["names a white crate the answer does not", "says 1, the answer is 2"]);
    expect(check("is there a red barrel?", "Aye. On my left.")).toEqual([]);
    expect(check("is there a red barrel?", "Nay, none.")).toEqual(["does not say yes"]);
    expect(check("is there a red barrel?", "A red barrel, young one.")).toEqual([]);
    expect(check("is there a white sack?", "Hmm.")).toEqual(["does not say no"]);
    expect(check("any white sacks?", "A white sack? No, not here.")).toEqual([]);
    expect(check("what colour is the barrel?", "Red, like a cherry.")).toEqual([]);
    expect(check("what colour is the barrel?", "It's blue.")).toEqual(["says blue, the answer does not", "does not say the colour"]);
    expect(check("what colour is the bucket?", "Don't see a bucket.")).toEqual([]);
    expect(check("what colour is the bucket?", "There is none, citizen. I do not see a bucket.")).toEqual([]);
    expect(check("what's the blue thing?", "That's a crate.")).toEqual([]);
    expect(check("what's the blue thing?", "A sack, that.")).toEqual(["names a sack the answer does not", "does not say what it is"]);
    // No purple thing in view, and none among the places near by: the reply says so, not a place.
    expect(disagreements("Nothing purple in sight, lad.", "no purple thing in sight", "what's the purple thing?")).toEqual([]);
    expect(disagreements("The tavern roof, behind me.", "no purple thing in sight", "what's the purple thing?")).toEqual(["does not say it is not in sight"]);
  });

  it("sides, the nearest, in front or behind (said either way round)", () => {
    expect(check("where is the red barrel?", "Off to my left.")).toEqual([]);
    expect(check("where is the red barrel?", "To my right, lad.")).toEqual(["says right, the answer is left"]);
    expect(check("where is the red barrel?", "Hmph. Over there.")).toEqual(["does not say left"]);
    expect(check("where is the bucket?", "There. The forge.")).toEqual(["does not say it is not in sight"]);
    expect(check("where is the bucket?", "No bucket here, lad.")).toEqual([]);
    expect(check("what's the closest thing?", "The red barrel, left of me.")).toEqual([]);
    expect(check("what's the closest thing?", "One barrel.")).toEqual(["starts with the barrel, the nearest is the red barrel"]);
    expect(check("where is the red barrel?", "Left. If I've counted right.")).toEqual([]);
    expect(check("where is the red barrel?", "On the right side, love.")).toEqual(["says right, the answer is left"]);
    expect(check("what's the closest thing?", "A blue crate.")).toEqual(["names a blue crate the answer does not", "starts with the blue crate, the nearest is the red barrel"]);
    expect(answer("is the blue crate behind the red barrel?")).toBe("the blue crate is behind the red barrel");
    expect(check("is the blue crate behind the red barrel?", "Aye, the crate's behind it.")).toEqual([]);
    expect(check("is the blue crate behind the red barrel?", "The barrel is in front.")).toEqual([]);
    expect(check("is the blue crate behind the red barrel?", "Behind. Behind the red barrel.")).toEqual([]);
    expect(check("is the blue crate behind the red barrel?", "The crate is in front.")).toEqual(["says front, the answer is behind"]);
    expect(check("is the blue crate behind the red barrel?", "In front of the red barrel, lad.")).toEqual(["says front, the answer is behind"]);
    expect(check("is the blue crate behind the red barrel?", "The red barrel is in front of the red barrel.")).toEqual(["places the red barrel against itself"]);
  });
});

describe("sightCheckFor", () => {
  const prompt = (lines: string[]) => `<|persona|>You are Brom.\n<|near|>${lines.map((l) => `- ${l}\n`).join("")}<|player|>`;
  it("checks against the answer line, else the view's summary (the props named only), else not at all", () => {
    const withAnswer = prompt([sightAnswerLine("how many sacks?", SIGHT)!, sightSummary(SIGHT), "anvil: anvil, dark brown, 1 m left"]);
    expect(sightCheckFor(withAnswer, "how many sacks?")!.agrees("Three sacks.")).toEqual(["says 3, the answer is 2"]);
    expect(sightCheckFor(withAnswer, "how many sacks?")!.plainly).toBe("Two sacks.");
    // "what's that brown thing?" with no brown prop in view: no answer line, the anvil may be it.
    const summaryOnly = prompt([sightSummary(SIGHT), "anvil: anvil, dark brown, 1 m left"]);
    const check = sightCheckFor(summaryOnly, "what's that brown thing?")!.agrees;
    expect(sightCheckFor(summaryOnly, "what's that brown thing?")!.plainly).toBeNull();
    expect(check("That's the anvil, lad.")).toEqual([]);
    expect(check("That's a barrel. A brown barrel.")).toEqual(["names a brown barrel the answer does not"]);
    expect(check("A bucket, lad.")).toEqual(["names a bucket the answer does not"]);
    expect(check("The red barrel? Left of me.")).toEqual([]);
    expect(sightCheckFor(prompt([sightSummary([])]), "what's that?")!.agrees("A crate.")).toEqual(["names a crate the answer does not"]);
    expect(sightCheckFor(prompt(["anvil: anvil, dark brown, 1 m left"]), "hello")).toBeNull();
  });
});

describe("sayPlainly", () => {
  it("says an answer line as a sentence that agrees with it, whatever was asked", () => {
    expect(sayPlainly("a red barrel, two grey sacks and a blue crate; near: the well")).toBe("A red barrel, two grey sacks and a blue crate. The well is near by.");
    expect(sayPlainly("no barrels")).toBe("No barrels.");
    const asked = ["what do you see?", "how many sacks are there?", "how many buckets?", "is there a red barrel?", "any white sacks?", "what colour is the barrel?",
      "what colour is the bucket?", "what's the blue thing?", "where is the red barrel?", "where's the bucket?", "what's the closest thing?", "is the blue crate behind the red barrel?"];
    for (const say of asked) for (const sight of [SIGHT, SIGHT.slice(2), []]) {
      const line = sightAnswerLine(say, sight, "well");
      if (line === null) continue; // "what's the blue thing?" with nothing blue: no answer line
      const a = line.replace(/^sight answer: /, "");
      expect([say, a, disagreements(sayPlainly(a), a, say)]).toEqual([say, a, []]);
    }
  });
});

describe("voicePlainly", () => {
  it("keeps the closest reply's mood and opening words that claim nothing, and says the answer", () => {
    const plain = "A red barrel and two grey sacks. The well is near by.";
    expect(voicePlainly("[mood:cheerful] Oh, let me see, dearie: a yellow crate and a purple bucket. That's the lot.", plain)).toBe("[mood:cheerful] Oh, let me see, dearie: a red barrel and two grey sacks. The well is near by.");
    expect(voicePlainly("[mood:calm] Hmph. A white sack. The anvil.", plain)).toBe("[mood:calm] Hmph. A red barrel and two grey sacks. The well is near by.");
    expect(voicePlainly("[mood:calm] There. The red barrel.", "No barrel in sight.")).toBe("[mood:calm] No barrel in sight.");
    expect(voicePlainly("[mood:angry] Aye, three of them.", "Two barrels.")).toBe("[mood:angry] Two barrels.");
    for (const say of ["what do you see?", "how many sacks are there?"]) {
      const a = answer(say);
      expect(disagreements(voicePlainly("[mood:calm] Ahh, little sprout, I see a blue bucket.", sayPlainly(a)), a, say)).toEqual([]);
    }
  });
});

describe("voiceAgreeing", () => {
  const reply = (text: string) => ({ text });
  it("keeps a first reply that agrees without writing more", async () => {
    let more = 0;
    const v = await voiceAgreeing(async () => reply("ok"), async () => { more++; return reply("x"); }, (t) => (t === "ok" ? [] : ["bad"]), 2);
    expect(v).toEqual({ result: { text: "ok" }, tries: 1, disagreements: [], plain: false });
    expect(more).toBe(0);
  });

  it("writes the retries at once and keeps the first that agrees, else the least wrong (the first on a tie)", async () => {
    const asked: number[] = [];
    const v = await voiceAgreeing(async () => reply("bad bad"), async (k) => { asked.push(k); return reply(k === 1 ? "bad" : "ok"); }, (t) => t.split(" ").filter((w) => w === "bad"), 2);
    expect(asked).toEqual([1, 2]);
    expect(v).toEqual({ result: { text: "ok" }, tries: 3, disagreements: [], plain: false });
    const w = await voiceAgreeing(async () => reply("bad"), async () => reply("bad"), (t) => (t === "bad" ? ["bad"] : []), 2);
    expect(w).toMatchObject({ result: { text: "bad" }, tries: 3, disagreements: ["bad"] });
    const z = await voiceAgreeing(async () => reply("bad"), async () => reply("ok"), (t) => (t === "bad" ? ["bad"] : []), 0);
    expect(z.tries).toBe(1);
  });

  it("a retry that fails drops out; the first reply still stands", async () => {
    const v = await voiceAgreeing(async () => reply("bad"), async (k) => { if (k === 1) throw new Error("busy"); return reply("ok"); }, (t) => (t === "bad" ? ["bad"] : []), 2);
    expect(v).toMatchObject({ result: { text: "ok" }, plain: false });
    const w = await voiceAgreeing(async () => reply("bad"), async () => { throw new Error("busy"); }, (t) => (t === "bad" ? ["bad"] : []), 2);
    expect(w).toMatchObject({ result: { text: "bad" }, disagreements: ["bad"], plain: false });
  });

  it("says the answer plainly when no try agrees and a plain answer is given", async () => {
    const v = await voiceAgreeing(async () => reply("bad bad"), async () => reply("bad"), (t) => t.split(" ").filter((w) => w === "bad"), 2, (least) => ({ text: `${least.text} -> plain` }));
    expect(v).toEqual({ result: { text: "bad -> plain" }, tries: 3, disagreements: ["bad"], plain: true });
    const ok = await voiceAgreeing(async () => reply("bad"), async () => reply("ok"), (t) => (t === "bad" ? ["bad"] : []), 2, () => reply("plain"));
    expect(ok).toMatchObject({ result: { text: "ok" }, plain: false });
  });
});
