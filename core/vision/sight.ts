import { asksToPoint } from "../prompt/requests.ts";
import { readSightQuestion } from "./ask.ts";
import { COLOURS, KINDS } from "./vocab.ts";

// Which lines an NPC answers with its eyes. The view (visual tokens and the vision skill pack) goes
// into a reply only when the player's line is about what is in sight: a sight word ("see", "look",
// "in front of you", "closest", "how many"), a colour, or a kind of prop the encoder knows. Every
// other line takes the text path, with the props in the nearby lines. Measured on the dialogue
// suites, the view on every line cost them (persona 0.217 → 0.117, actions 0.233 → 0.050 with the
// shipped package) and brought those lines nothing; training/vision/README.md has the figures.

const SIGHT_WORDS = [
  "see", "sees", "seeing", "saw", "seen", "look", "looking", "looks", "view", "sight", "spot", "notice", "glimpse",
  "describe", "visible", "nearest", "closest", "how many", "count", "in front of you", "before you", "around you",
  "colour", "color", "coloured", "colored", "shade", "left or right", "your left", "your right",
];

const plural = (k: string) => (k.endsWith("h") || k.endsWith("s") ? `${k}es` : `${k}s`);
const SIGHT = new RegExp(
  `\\b(${[...SIGHT_WORDS, ...COLOURS, "gray", ...KINDS, ...KINDS.map(plural)].map((w) => w.replace(/ /g, "\\s+")).join("|")})\\b`,
  "i",
);

/** True when the line asks about what the NPC can see (so its view is worth the reply's cost). */
export function asksAboutSight(line: string): boolean {
  return SIGHT.test(line);
}

// Lines the scene-graph sight path answers (core/vision/seen.ts): those about the props the
// grounding vocabulary names: a kind, a colour, how many, the nearest, which side. Generic sight
// lines ("what do you see?", "look at that") keep the text path: there the village's nearby
// lines answer them (the nearest landmarks), and measured on the dialogue suites the sight path
// lost those (surroundings 0.317 → 0.117 with every sight line routed to it).
const PROP_WORDS = ["how many", "count", "nearest", "closest", "colour", "color", "coloured", "colored", "shade", "left or right", "your left", "your right"];
const PROPS = new RegExp(
  `\\b(${[...PROP_WORDS, ...COLOURS, "gray", ...KINDS, ...KINDS.map(plural)].map((w) => w.replace(/ /g, "\\s+")).join("|")})\\b`,
  "i",
);

/** The words of a question about what is seen (nearness, number, colour, side), kinds and colours aside. */
const PROP_QUESTION = new RegExp(`\\b(${[...PROP_WORDS, "nearer", "closer", "furthest", "farthest", "in view", "you see", "you can see"].map((w) => w.replace(/ /g, "\\s+")).join("|")})\\b`, "i");

/** True when the line asks about the props in sight by kind, colour, number, nearness or side. */
export function asksAboutProps(line: string): boolean {
  return PROPS.test(line);
}

/**
 * True when a line is answered from the props in sight (the scene graph or the eyes' detector, with
 * the sight skill): one about the props (asksAboutProps), or one asking for everything in view
 * ("what do you see?", core/vision/ask.ts reads it as a list). The answer line of a list names the
 * props in sight and the nearest other thing (core/vision/seen.ts), so the landmark a player near
 * no props hears of stays in the reply.
 */
export function answersFromSight(line: string): boolean {
  // A thing to point out is pointed at, in view or not (core/prompt/act-check.ts); "which is the
  // nearest thing in view?" asks what is seen.
  if (TRADE.test(line) || (asksToPoint(line) && !PROP_QUESTION.test(line))) return false;
  return asksAboutProps(line) || readSightQuestion(line)?.t === "list";
}

// "How many coins for the tonic?" counts coins, not props: a line about prices is a trade line
// (core/prompt/trade-check.ts).
const TRADE = /\b(?:coins?|price|prices|cost|costs|pay|buy|sell|sells|selling)\b/i;
