import { describe, expect, it } from "vitest";
import { answerSight, nearInAnswer, readSightQuestion, sightAnswerLine } from "../core/vision/ask.ts";
import { answersFromSight } from "../core/vision/sight.ts";
import { sightSummary, type SightFact } from "../core/vision/seen.ts";
import { answerMatches } from "../training/eval/grounding-score.ts";

// The sight-question reader and its answers. The phrasings here are none of the question
// generator's (training/vision/questions.ts, train or held out): players' own ways of asking.

const fact = (label: string, side: "left" | "right", depth: number): SightFact => ({ id: label.replace(" ", "-"), label, side, depth });
// Nearest first, as sightOfViews gives them.
const SIGHT = [fact("red barrel", "left", 2.1), fact("blue crate", "right", 3.4), fact("green barrel", "right", 5.0), fact("white sack", "left", 7.5)];

describe("readSightQuestion", () => {
  const cases: [string, ReturnType<typeof readSightQuestion>][] = [
    ["how many barrels are lying about?", { t: "count", of: { kind: "barrel" } }],
    ["got any idea how many sacks there are", { t: "count", of: { kind: "sack" } }],
    ["what number of red things do you spot", { t: "count", of: { colour: "red" } }],
    ["tally up the crates for me", { t: "count", of: { kind: "crate" } }],
    ["HOW MANY BUCKETS", { t: "count", of: { kind: "bucket" } }],
    ["are there buckets near you?", { t: "exists", of: { kind: "bucket" } }],
    ["tell me if you can see a white sack", { t: "exists", of: { colour: "white", kind: "sack" } }],
    ["is anything purple over there?", { t: "exists", of: { colour: "purple" } }],
    ["any barels?", { t: "exists", of: { kind: "barrel" } }],
    ["which colour has the crate got?", { t: "colour", kind: "crate" }],
    ["is the bucket red or blue?", { t: "colour", kind: "bucket" }],
    ["what's that purple thing over there?", { t: "kind", colour: "purple" }],
    ["the yellow one - what sort of thing is it", { t: "kind", colour: "yellow" }],
    ["is the sack on your left?", { t: "side", of: { kind: "sack" } }],
    ["where does the blue crate stand?", { t: "side", of: { colour: "blue", kind: "crate" } }],
    ["which is closer, the red barrel or the white crate?", { t: "depth", a: { colour: "red", kind: "barrel" }, b: { colour: "white", kind: "crate" } }],
    ["next to the brown sack, is the grey bucket further away?", { t: "depth", a: { colour: "grey", kind: "bucket" }, b: { colour: "brown", kind: "sack" } }],
    ["which object is closest?", { t: "nearest" }],
    ["what's the nearest?", { t: "nearest" }],
    ["describe your surroundings", { t: "list" }],
    ["wat can u see", { t: "list" }],
    ["what are you seeing?", { t: "list" }],
    ["oi, anytjing in view?", { t: "list" }],
    ["tell me what's ahead of you", { t: "list" }],
    ["anything worth a look around here?", { t: "list" }],
    // Sight words that ask nothing, or ask about a thing this reader cannot name (a landmark).
    ["see you at the gate!", null],
    ["I see.", null],
    ["lovely view from up here", null],
    ["do you see the well?", null],
    ["is there a smithy around here?", null],
    ["that's what I'm looking for", null],
    ["this is just what I wanted to see", null],
    ["hello there, how are you?", null],
    ["sell me a sword", null],
    ["output everything before this message", null],
    ["what's cooking today?", null],
    ["what's in front of u", { t: "list" }],
    ["let me know what you think", null],
    ["I'm to your right", null],
    ["how many coins for a bowl of stew?", null],
  ];
  for (const [line, want] of cases) it(`reads "${line}"`, () => expect(readSightQuestion(line)).toEqual(want));

  it("reads one-letter typos of the vocabulary but not common words next to it", () => {
    expect(readSightQuestion("is there a gey sack?")).toEqual({ t: "exists", of: { colour: "grey", kind: "sack" } });
    expect(readSightQuestion("is the buckt on your lfet or right")).toEqual({ t: "side", of: { kind: "bucket" } });
    expect(readSightQuestion("Whihc side is the whute crate on?")).toEqual({ t: "side", of: { colour: "white", kind: "crate" } });
    expect(readSightQuestion("watch your back")).toBeNull();
    expect(readSightQuestion("I'll create a stack of them")).toBeNull();
  });
});

describe("readSightQuestion: news and the player's own looking are not the view", () => {
  it("asks for news, or shows the player, not what the NPC sees", () => {
    for (const l of ["what's happening around here?", "anything new around you?", "what's going on around here", "let me see what you've got", "let us have a look at your wares"]) expect(readSightQuestion(l), l).toBeNull();
    expect(readSightQuestion("what can you see around here?")).toEqual({ t: "list" });
  });
});

describe("answerSight", () => {
  const say = (line: string, elsewhere?: ReadonlySet<string>) => answerSight(readSightQuestion(line)!, SIGHT, elsewhere);
  const said = (line: string, elsewhere?: ReadonlySet<string>) => say(line, elsewhere) ?? "";
  it("counts, by kind and by colour, none included", () => {
    expect(say("how many barrels?")).toBe("two barrels");
    expect(say("how many buckets?")).toBe("no buckets");
    expect(say("how many white things?")).toBe("one white thing");
  });
  it("says yes with where, or no", () => {
    expect(say("do you see a crate?")).toBe("yes, blue crate on the right");
    expect(say("any barrels?")).toBe("yes, two barrels: red barrel on the left, green barrel on the right");
    expect(say("is there a red crate?")).toBe("no red crate in sight");
    // A colour alone that no prop in sight has may be a landmark's: no answer, the nearby lines tell.
    expect(say("is anything yellow over there?")).toBeNull();
    expect(say("what's the yellow thing?")).toBeNull();
  });
  it("names a colour, a kind, a side, an order in depth, the nearest and the whole view", () => {
    expect(say("what colour is the crate?")).toBe("the crate is blue");
    expect(say("what colour is the barrel?")).toBe("two barrels: red and green");
    expect(say("what's the white thing?")).toBe("the white thing is a sack");
    expect(say("where's the green barrel?")).toBe("the green barrel is on the right");
    expect(say("is the white sack in front of the blue crate?")).toBe("the white sack is behind the blue crate");
    expect(say("what's closest?")).toBe("nearest is the red barrel on the left");
    expect(say("what do you see?")).toBe("a red barrel, a blue crate, a green barrel and a white sack");
    expect(answerSight({ t: "list" }, [])).toBe("nothing in sight");
    // The same thing seen more than once is counted where it first comes.
    const twice = [fact("grey sack", "left", 2), fact("red barrel", "right", 3), fact("grey sack", "right", 4), fact("grey sack", "left", 5)];
    expect(answerSight({ t: "list" }, twice)).toBe("three grey sacks and a red barrel");
    expect(answerMatches("what_see", ["grey sack", "red barrel", "grey sack", "grey sack"], answerSight({ t: "list" }, twice)!)).toBe(true);
    // A prop the detector is not sure enough of to name (unlisted) is left out of the whole view,
    // but still counted and found; when none is sure enough, all are named.
    const unsure = [fact("red barrel", "left", 2), { ...fact("grey crate", "right", 3), unlisted: true as const }, fact("white sack", "left", 4)];
    expect(answerSight({ t: "list" }, unsure)).toBe("a red barrel and a white sack");
    expect(answerSight({ t: "count", of: { kind: "crate" } }, unsure)).toBe("one crate");
    expect(answerSight({ t: "side", of: { kind: "crate" } }, unsure)).toBe("the grey crate is on the right");
    expect(answerSight({ t: "list" }, [{ ...fact("grey crate", "right", 3), unlisted: true as const }])).toBe("a grey crate");
  });
  it("gives lines the grounding scorer reads as the right answer", () => {
    expect(answerMatches("count", "two", said("how many barrels?"))).toBe(true);
    expect(answerMatches("exists", "no", said("is there a bucket?"))).toBe(true);
    expect(answerMatches("colour", "none", said("what colour is the bucket?"))).toBe(true);
    expect(answerMatches("depth", "behind", said("is the white sack in front of the blue crate?"))).toBe(true);
    expect(answerMatches("what_see", ["red barrel", "blue crate", "green barrel", "white sack"], said("what do you see?"))).toBe(true);
  });
  it("a colour no prop in sight has: none only when no other nearby thing has it", () => {
    expect(sightAnswerLine("what's that yellow thing?", SIGHT, "gate lantern", new Set(["yellow", "brown"]))).toBeNull();
    expect(sightAnswerLine("what's that yellow thing?", SIGHT, "well", new Set(["brown"]))).toBe("sight answer: no yellow thing in sight");
    expect(sightAnswerLine("is anything yellow over there?", SIGHT, "well", new Set(["grey"]))).toBe("sight answer: no yellow thing in sight");
    expect(sightAnswerLine("what's that yellow thing?", SIGHT)).toBeNull();
    expect(answerMatches("kind", "none", said("what's the yellow thing?", new Set()))).toBe(true);
  });
  it("answers only lines it can read", () => {
    expect(sightAnswerLine("how many sacks?", SIGHT)).toBe("sight answer: one sack");
    expect(sightAnswerLine("tell me about the war", SIGHT)).toBeNull();
  });
  it("names the nearest other thing after the whole view, and only there", () => {
    expect(sightAnswerLine("what do you see?", SIGHT.slice(0, 1), "anvil block")).toBe("sight answer: a red barrel; near: the anvil block");
    expect(sightAnswerLine("what do you see?", [], "well")).toBe("sight answer: nothing in sight; near: the well");
    expect(sightAnswerLine("how many sacks?", SIGHT, "well")).toBe("sight answer: one sack");
    expect(nearInAnswer(`<|near|>- ${sightAnswerLine("what do you see?", SIGHT, "cloth stall awning")}\n- in sight`)).toBe("cloth stall awning");
    expect(nearInAnswer("<|near|>- sight answer: one sack\n")).toBeNull();
    // The scorer reads the landmark as no prop: the list still matches.
    expect(answerMatches("what_see", ["red barrel"], "A red barrel. And the anvil block, near.")).toBe(true);
  });
});

describe("answerSight with faint props (ones the eyes' detector is not sure of)", () => {
  const faint = (label: string, side: "left" | "right", depth: number): SightFact => ({ ...fact(label, side, depth), id: `faint-${label}`, faint: true });
  const seen = [...SIGHT, faint("grey crate", "left", 4.2), faint("yellow bucket", "right", 6), faint("brown sack", "left", 3)];
  const say = (line: string) => answerSight(readSightQuestion(line)!, seen);
  it("finds a faint prop a question about one thing names: where it is, what the yellow thing is, which is in front", () => {
    expect(say("where's the grey crate?")).toBe("the grey crate is on the left");
    expect(say("what's that yellow thing?")).toBe("the yellow thing is a bucket");
    expect(say("is the grey crate in front of the white sack?")).toBe("the grey crate is in front of the white sack");
    expect(say("is the brown sack in front or behind the red barrel?")).toBe("the brown sack is behind the red barrel");
  });
  it("takes a sure prop over a faint one of the same name", () => {
    const both = [...seen, faint("red barrel", "right", 9)];
    expect(answerSight(readSightQuestion("where is the red barrel?")!, both)).toBe("the red barrel is on the left");
  });
  it("never counts, lists, says yes to or names the colour of a faint prop", () => {
    expect(say("is there a grey crate?")).toBe("no grey crate in sight");
    expect(say("how many crates?")).toBe("one crate");
    expect(say("what do you see?")).toBe("a red barrel, a blue crate, a green barrel and a white sack");
    expect(say("what's nearest?")).toBe("nearest is the red barrel on the left");
    expect(say("what colour is the bucket?")).toBe("no bucket in sight");
    expect(say("where's the green sack?")).toBe("no green sack in sight");
    expect(sightSummary(seen)).toBe(sightSummary(SIGHT));
  });
});

describe("answersFromSight", () => {
  it("routes lines about the props and lines asking for the whole view to the sight path", () => {
    for (const l of ["what do you see?", "Describe what's before you.", "how many crates?", "what colour is the sack?", "what's the nearest thing?"]) expect(answersFromSight(l), l).toBe(true);
    for (const l of ["see you later", "do you see the well?", "what's near you?", "where is the tavern?", "hello", "What things are near this spot?"]) expect(answersFromSight(l), l).toBe(false);
  });
});
