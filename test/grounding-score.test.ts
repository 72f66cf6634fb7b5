import { describe, expect, it } from "vitest";
import { answerMatches, chair, chanceOf, countOf, mentions, polarity, pope } from "../training/eval/grounding-score.ts";

// Reading grounded replies back as answers: right answers in any voice pass, wrong ones fail.

describe("grounding answers", () => {
  it("reads yes/no from the first polarity word", () => {
    expect(polarity("[mood:calm] Aye. Red barrel. Left.")).toBe("yes");
    expect(polarity("No, citizen. I see no red barrel.")).toBe("no");
    expect(polarity("There is a blue crate to my right.")).toBe("yes");
    expect(polarity("Hmm.")).toBeNull();
    expect(answerMatches("exists", "yes", "Aye, a red barrel.")).toBe(true);
    expect(answerMatches("exists", "no", "Aye, a red barrel.")).toBe(false);
  });

  it("reads counts, colours, kinds, sides and depth", () => {
    expect(countOf("Three barrels, friend.")).toBe(3);
    expect(countOf("None at all.")).toBe(0);
    // a denial of seeing counts nothing; "any" alone is no count
    expect(countOf("Oh, I don't see a bucket, friend! None at all!")).toBe(0);
    expect(countOf("I can't see any barrels.")).toBe(0);
    expect(countOf("Any? Two, love.")).toBe(2);
    expect(countOf("Hmm... nothing, little sprout. An empty field.")).toBe(0);
    expect(countOf("I see a bucket by the well.")).toBe(1);
    expect(answerMatches("count", "two", "Two. Both crates.")).toBe(true);
    expect(answerMatches("count", "two", "Three of them.")).toBe(false);
    expect(answerMatches("colour", "red", "[mood:calm] It's red, love.")).toBe(true);
    expect(answerMatches("colour", "red", "Blue, and a red one behind.")).toBe(false);
    expect(answerMatches("kind", "crate", "That's a crate.")).toBe(true);
    expect(answerMatches("kind", "crate", "A sack.")).toBe(false);
    expect(answerMatches("side", "left", "Off to my left.")).toBe(true);
    expect(answerMatches("side", "left", "To my right.")).toBe(false);
    expect(answerMatches("depth", "front", "In front. Nearer than the crate.")).toBe(true);
    expect(answerMatches("depth", "behind", "In front.")).toBe(false);
    expect(answerMatches("nearest", "yellow sack", "The nearest is a yellow sack.")).toBe(true);
    expect(answerMatches("nearest", "yellow sack", "A red sack.")).toBe(false);
    expect(answerMatches("colour", "none", "I don't see one.")).toBe(true);
    expect(answerMatches("colour", "none", "Oh, zero buckets, dearie!")).toBe(true);
    expect(answerMatches("colour", "none", "It's blue, and zero doubt.")).toBe(false);
  });

  it("what_see needs exactly the props in view; denied kinds name nothing", () => {
    expect(mentions("Nothing. No barrels, crates, sacks or buckets.")).toEqual([]);
    expect(answerMatches("what_see", [], "Nothing. No barrels, crates, sacks or buckets.")).toBe(true);
    expect(answerMatches("what_see", ["red barrel", "blue crate"], "A red barrel and a blue crate.")).toBe(true);
    expect(answerMatches("what_see", ["red barrel", "blue crate"], "A red barrel.")).toBe(false);
    expect(answerMatches("what_see", ["red barrel"], "A red barrel and a green sack.")).toBe(false);
  });

  it("CHAIR counts named objects not in view; POPE scores yes/no probes", () => {
    const c = chair([
      { text: "A red barrel and a green sack.", visible: ["red barrel"] },
      { text: "A blue crate.", visible: ["blue crate", "red barrel"] },
    ]);
    expect(c.mentions).toBe(3);
    expect(c.chair_i).toBeCloseTo(1 / 3, 6);
    expect(c.chair_s).toBeCloseTo(1 / 2, 6);
    const p = pope([{ truth: "yes", said: "yes" }, { truth: "no", said: "yes" }, { truth: "no", said: "no" }, { truth: "yes", said: null }]);
    expect(p.yes_ratio).toBe(0.5);
    expect(p.f1).toBeCloseTo(0.5, 6);
    expect(chanceOf("exists", "yes")).toBe(0.5);
    expect(chanceOf("colour", "red")).toBe(1 / 8);
  });
});
