import type { SightFact } from "./seen.ts";
import { COLOURS, countPhrase, KINDS, spokenList, type ColourWord, type Kind } from "./vocab.ts";

// The answer to a question about the props in sight, worked out before the model speaks. The
// player's line is read as a small program over the grounding vocabulary (how many of a kind or
// colour, is there a thing, its colour, what the red thing is, which side, in front of or behind
// another, the nearest, everything in view) and run on what the NPC sees (SightFacts from the scene
// graph or from its eyes' prop detector). The result is one plain sight line the model voices:
//
//   - sight answer: two barrels
//   - sight answer: a red barrel, a blue crate and a white sack; near: the well
//   - sight answer: yes, red barrel on the left
//   - sight answer: the blue crate is in front of the green bucket
//
// Why: the small default model copies a few words from a line well but does not count marked lines,
// compare depths or look a colour up among several lines (eval:grounding --sight scene with the
// facts alone: 0.48). Parsing a question and running it on a scene is the neuro-symbolic split of
// visual question answering (a scene representation, a program, execution); the model keeps the
// voice. A line the reader does not understand gets no answer line and the model reads the
// summary as before. Reading is forgiving: case, punctuation, fillers and one-letter typos of the
// vocabulary ("gey sack", "lrft or right") are read.

export type PropRef = { kind?: Kind; colour?: ColourWord };

export type SightQuestion =
  | { t: "count"; of: PropRef }
  | { t: "exists"; of: PropRef }
  | { t: "colour"; kind: Kind }
  | { t: "kind"; colour: ColourWord }
  | { t: "side"; of: PropRef }
  | { t: "depth"; a: PropRef; b: PropRef }
  | { t: "nearest" }
  | { t: "list" };

type Word = { w: string; kind?: Kind; colour?: ColourWord };

const COLOUR_WORDS: Record<string, ColourWord> = Object.fromEntries([...COLOURS.map((c) => [c, c]), ["gray", "grey"]]);
const KIND_WORDS: Record<string, Kind> = Object.fromEntries(KINDS.flatMap((k) => [[k, k], [`${k}s`, k], [`${k}es`, k]]));
const CUES = ["left", "right", "front", "behind", "nearest", "closest", "nearer", "closer", "further", "farther", "colour", "color", "coloured", "colored", "many", "number", "count", "tally"];

// Common words one letter away from a vocabulary word; never read as it.
const NOT_TYPOS = new Set([
  "back", "pack", "rack", "lack", "tack", "jack", "hack", "sick", "sock", "suck", "sake", "safe", "same", "sale", "snack", "stack", "sank",
  "rate", "create", "grate", "crane", "irate", "crave", "craze", "cater", "barren", "bucked",
  "grew", "prey", "glue", "clue", "true", "blur", "while", "write", "whine", "whit", "greet", "greed",
  "grown", "crown", "drown", "frown", "brow", "fellow", "mellow", "bellow", "bed", "rod", "rid", "read",
  "let", "lest", "lent", "lift", "loft", "lefty", "light", "night", "might", "fight", "sight", "tight", "eight", "bright",
  "font", "frost", "fount", "any", "man", "may", "mans", "mane", "manly", "mary", "lumber", "court", "mount", "county",
  "nearly", "newer", "close", "father", "cooking", "booking", "hooking", "seeking", "lacking",
]);

/** One edit (a letter dropped, added, changed, or two swapped) apart. */
function oneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** A vocabulary word as typed, or its one-typo form (words of four letters or more, "gey" for grey). */
function fuzzy<T>(w: string, table: Record<string, T>): T | undefined {
  if (w in table) return table[w];
  if (w.length < 3 || NOT_TYPOS.has(w)) return undefined;
  for (const [k, v] of Object.entries(table)) if (k.length >= 4 && oneEdit(w, k)) return v;
  return undefined;
}

// A line naming no prop that asks what is in sight: "what do you see?", "describe what's before you".
// It asks ("what", "anything", "tell", "describe", "list"): "see you later!" and "nice view" say
// nothing to answer, and "do you see the well?" asks about a thing this reader cannot name.
const LIST_TABLE: Record<string, true> = Object.fromEntries(["see", "sees", "seeing", "view", "sight", "visible", "looking", "describe", "list", "front", "before", "ahead", "around", "surroundings"].map((w) => [w, true]));
// "before" and "front" ask about the view only of someone: "what's before you", "in front of me"
// ("output everything before this message" does not).
const PLACED = new Set(["before", "front"]);
const PLACED_BY = new Set(["you", "u", "ya", "yer", "ye", "thee", "me", "us", "your", "my", "our", "of"]);
const ASKING = new Set(["what", "wat", "wot", "wht", "anything", "everything", "tell", "describe", "list", "name"]);
// Words one letter from "what" that are words of their own ("wjat" is read as what; "that" is not).
const NOT_ASKING = new Set(["that", "chat", "whet", "wheat", "shat", "want", "wait", "whit", "whats"]);
// "that's what I'm looking for" tells; it does not ask: a "what" after these is no question.
const STATING = new Set(["that", "this", "is", "exactly", "just"]);
const ALWAYS_ASKING = new Set(["describe", "list", "tell"]);

/** Does word `w` (after `prev`) ask: "what", "wjat", "anything", "describe", but not "that's what". */
function asking(w: string, prev: string): boolean {
  if (ALWAYS_ASKING.has(w)) return true;
  const word = ASKING.has(w) || (!NOT_ASKING.has(w) && w.length >= 4 && (oneEdit(w, "what") || oneEdit(w, "describe") || oneEdit(w, "anything")));
  return word && !STATING.has(prev);
}
const CUE_TABLE: Record<string, string> = Object.fromEntries(CUES.map((c) => [c, c]));

function words(line: string): Word[] {
  const raw = line.toLowerCase().replace(/[’`]/g, "'").match(/[a-z']+/g) ?? [];
  return raw.map((r) => {
    const w = r.replace(/'s$/, "").replace(/'/g, "");
    const colour = fuzzy(w, COLOUR_WORDS), kind = colour ? undefined : fuzzy(w, KIND_WORDS);
    const cue = colour || kind ? undefined : fuzzy(w, CUE_TABLE);
    return { w: cue ?? w, kind, colour };
  });
}

// Words between a colour and a kind that do not make them one thing ("the red one or the barrel").
const LINKS = new Set(["one", "ones", "or", "and", "thing", "things", "the", "a", "an", "is", "than", "to", "of", "by", "next", "with"]);

/** The things a line names in order: "red barrel", "barrel", or a lone colour. */
function refs(ws: Word[]): (PropRef & { at: number })[] {
  const out: (PropRef & { at: number })[] = [];
  for (let i = 0; i < ws.length; i++) {
    const { colour, kind } = ws[i];
    if (colour) {
      // "red barrel", "red wooden barrel"
      const k = ws[i + 1]?.kind ?? (ws[i + 2]?.kind && !ws[i + 1]?.colour && !LINKS.has(ws[i + 1]?.w) ? ws[i + 2].kind : undefined);
      if (k) { out.push({ colour, kind: k, at: i }); i += ws[i + 1]?.kind ? 1 : 2; } else out.push({ colour, at: i });
    } else if (kind) out.push({ kind, at: i });
  }
  const same = (a: PropRef, b: PropRef) => a.kind === b.kind && a.colour === b.colour;
  return out.filter((r, i) => out.findIndex((x) => same(x, r)) === i);
}

const has = (ws: Word[], ...xs: string[]) => ws.some((w) => xs.includes(w.w));
const phrase = (line: string, re: RegExp) => re.test(line.toLowerCase());

/** The question a player's line asks about the props in sight, or null when it asks none this reader knows. */
export function readSightQuestion(line: string): SightQuestion | null {
  const ws = words(line);
  const named = refs(ws);
  const things = named.filter((r) => r.kind);
  const first = named[0];
  // "how many", and "how may" / "how mnay" (a typo of many that is a word itself)
  const howMany = ws.some((w, i) => w.w === "how" && ws[i + 1] && oneEdit(ws[i + 1].w, "many"));
  if (howMany || has(ws, "many", "count", "tally") || phrase(line, /\bnumber of\b/) || (has(ws, "number") && first)) {
    return first ? { t: "count", of: plain(first) } : null;
  }
  const depthWord = has(ws, "front", "behind", "nearer", "closer", "further", "farther") || phrase(line, /\bbefore\b|\bback\b/);
  if (things.length >= 2 && depthWord) {
    // The one asked about follows "is (the)" or "does (the)": "compared with the crate, is the barrel in front?"
    const subject = things.find((r) => ["is", "does", "are"].includes(ws[r.at - 1]?.w ?? "") || (ws[r.at - 1]?.w === "the" && ["is", "does", "are"].includes(ws[r.at - 2]?.w ?? ""))) ?? things[0];
    return { t: "depth", a: plain(subject), b: plain(things.find((r) => r !== subject)!) };
  }
  if (named.length === 0) {
    if (has(ws, "nearest", "closest")) return { t: "nearest" };
    // (a cue word is itself: "right" is not a typo of "sight")
    const sightWord = ws.some((w, i) => (PLACED.has(w.w) ? PLACED_BY.has(ws[i + 1]?.w ?? "") : LIST_TABLE[w.w] || (!CUE_TABLE[w.w] && fuzzy(w.w, LIST_TABLE))));
    // "What's happening around here?" and "anything new around?" ask for news; "let me see what
    // you've got" is the player's seeing.
    if (phrase(line, /\b(?:happening|happened|going\s+on|goin\s+on|new|news|up\s+to)\b|\blet\s+(?:me|us)\s+(?:see|have\s+a\s+look)\b/)) return null;
    if (sightWord && ws.some((w, i) => asking(w.w, ws[i - 1]?.w ?? ""))) return { t: "list" };
    return null;
  }
  if (things.length === 1 && (has(ws, "left", "right") || phrase(line, /\bwhich (way|hand)\b|\bwhere\b|\bside\b/))) return { t: "side", of: plain(things[0]) };
  // "what colour is the crate?", and "is the bucket red or blue?"
  const colourAsked = has(ws, "colour", "color", "coloured", "colored") || phrase(line, /\b(shade|hue|tint)\b/) ||
    (named.filter((r) => r.colour && !r.kind).length >= 2 && has(ws, "or"));
  if (first.kind && !first.colour && colourAsked) return { t: "colour", kind: first.kind };
  if (!first.kind && first.colour && phrase(line, /\b(what|which|name|kind|sort|type)\b/)) return { t: "kind", colour: first.colour };
  return { t: "exists", of: plain(first) };
}

const plain = (r: PropRef): PropRef => (r.kind && r.colour ? { colour: r.colour, kind: r.kind } : r.kind ? { kind: r.kind } : { colour: r.colour });

const labelOf = (f: SightFact) => f.label;
const kindOf = (f: SightFact) => f.label.split(" ")[1] as Kind;
const colourOf = (f: SightFact) => f.label.split(" ")[0] as ColourWord;
const matches = (r: PropRef) => (f: SightFact) => (!r.kind || kindOf(f) === r.kind) && (!r.colour || colourOf(f) === r.colour);
const refWords = (r: PropRef) => (r.kind ? [r.colour, r.kind].filter(Boolean).join(" ") : `${r.colour} thing`);
const counted = (n: number, r: PropRef) => countPhrase(n, refWords(r));
const where = (f: SightFact) => `${labelOf(f)} on the ${f.side}`;

/**
 * The sight line answering `q` from `sight` (nearest first), without the "sight answer: " lead; null
 * when nothing of a colour asked about alone is in sight ("what's that yellow thing?", "can I eat the
 * red berries?"): the line may be about a landmark or anything else of that colour, which the nearby
 * lines answer, not the props.
 */
export function answerSight(q: SightQuestion, seen: readonly SightFact[], elsewhere?: ReadonlySet<string>): string | null {
  const sight = seen.filter((f) => !f.faint);
  // A question about one thing (where is it, what the red thing is, which is in front) says the
  // player sees it: when no sure prop is that thing, the likeliest faint one is (the detector's
  // faint props; never for "is there…?", "how many…?" or "what do you see?").
  const find = (r: PropRef) => {
    const sure = sight.filter(matches(r));
    if (sure.length > 0) return sure;
    const faint = seen.find((f) => f.faint && matches(r)(f));
    return faint ? [faint] : [];
  };
  // A colour asked alone that no prop in sight has: "none" only when nothing else nearby has it
  // either (`elsewhere`: the colours of the other nearby lines); otherwise no line, as without it.
  const noneOf = (colour: ColourWord) => (elsewhere && !elsewhere.has(colour) ? `no ${colour} thing in sight` : null);
  switch (q.t) {
    case "count":
      return counted(sight.filter(matches(q.of)).length, q.of);
    case "exists": {
      const found = sight.filter(matches(q.of));
      if (found.length === 0) return q.of.kind ? `no ${refWords(q.of)} in sight` : noneOf(q.of.colour!);
      return found.length === 1 ? `yes, ${where(found[0])}` : `yes, ${counted(found.length, q.of)}: ${found.map(where).join(", ")}`;
    }
    case "colour": {
      // Sure props only: "what colour is the crate?" looked up among the faint crates of every
      // colour picks a colour more often wrong than right (data/vision/val, training/vision/README.md).
      const found = sight.filter(matches({ kind: q.kind }));
      if (found.length === 0) return `no ${q.kind} in sight`;
      return found.length === 1 ? `the ${q.kind} is ${colourOf(found[0])}` : `${counted(found.length, { kind: q.kind })}: ${found.map(colourOf).join(" and ")}`;
    }
    case "kind": {
      const found = find({ colour: q.colour });
      if (found.length === 0) return noneOf(q.colour);
      return found.length === 1 ? `the ${q.colour} thing is a ${kindOf(found[0])}` : `${counted(found.length, { colour: q.colour })}: ${found.map(kindOf).join(" and ")}`;
    }
    case "side": {
      const found = find(q.of);
      if (found.length === 0) return `no ${refWords(q.of)} in sight`;
      return found.length === 1 ? `the ${labelOf(found[0])} is on the ${found[0].side}` : found.map(where).join(", ");
    }
    case "depth": {
      const a = find(q.a)[0], b = find(q.b)[0];
      if (!a || !b) return [a ? null : `no ${refWords(q.a)}`, b ? null : `no ${refWords(q.b)}`].filter(Boolean).join(", ") + " in sight";
      return `the ${labelOf(a)} is ${a.depth <= b.depth ? "in front of" : "behind"} the ${labelOf(b)}`;
    }
    case "nearest":
      return sight.length ? `nearest is the ${where(sight[0])}` : "nothing in sight";
    case "list": {
      // As the NPC says it ("a red barrel, a blue crate and a white sack"): the small model copies a
      // list it can say word for word far better than one it must reword item by item. Only the
      // props sure enough to name (the detector's list threshold): a prop left out costs less than
      // one named that is not there. When none is that sure, all of them.
      const named = sight.some((f) => !f.unlisted) ? sight.filter((f) => !f.unlisted) : sight;
      return named.length ? spokenList(named.map(labelOf)) : "nothing in sight";
    }
  }
}

const NEAR = "; near: the ";
const ANSWER = "sight answer: ";

/** How an answer line starts among the nearby lines. */
export const SIGHT_ANSWER_LEAD = `- ${ANSWER}`;

/**
 * "sight answer: …" for a line about the props in sight, or null when the line asks nothing this
 * reader knows. A line asking for everything in view also names `near`, the nearest other thing
 * (a landmark, a villager): "sight answer: red barrel on the left; near: the anvil block".
 */
export function sightAnswerLine(say: string, sight: readonly SightFact[], near?: string, elsewhere?: ReadonlySet<string>): string | null {
  const q = readSightQuestion(say);
  const a = q ? answerSight(q, sight, elsewhere) : null;
  if (!a) return null;
  return `${ANSWER}${a}${q!.t === "list" && near ? NEAR + near : ""}`;
}

/** The answer line's text in `prompt` (after "sight answer: "), or null when it has none. */
export function answerInPrompt(prompt: string): string | null {
  const at = prompt.indexOf(SIGHT_ANSWER_LEAD);
  return at < 0 ? null : prompt.slice(at + SIGHT_ANSWER_LEAD.length).split("\n")[0];
}

/** The nearest other thing an answer line in `prompt` names (sightAnswerLine's `near`), or null. */
export function nearInAnswer(prompt: string): string | null {
  const line = answerInPrompt(prompt) ?? "";
  const at = line.lastIndexOf(NEAR);
  return at >= 0 ? line.slice(at + NEAR.length) : null;
}
