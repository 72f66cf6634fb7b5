import { answerInPrompt, readSightQuestion } from "./ask.ts";
import { summaryInPrompt } from "./seen.ts";
import { COLOURS, KINDS, type ColourWord, type Kind } from "./vocab.ts";
import { moodTagOf, type ReplyCheck } from "../prompt/reply-check.ts";
import { NUMBER_WORDS } from "../prompt/card-lines.ts";

// Does a reply say what the NPC worked out it sees? A line about the props in sight gets its
// answer before the model speaks ("sight answer: a red barrel and two grey sacks", core/vision/ask.ts);
// the small model voices it, and now and then says something else: an item twice, a thing that is
// not there, "zero" for two, the left for the right. The server checks each such reply against its
// answer line and, when they disagree, voices it again (core/prompt/reply-check.ts): what the NPC says
// about its view then agrees with what it saw, in its own words. The check reads what a reply
// claims (props with their colours and counts, a count, yes or no, a side, in front or behind);
// what the player said selects which claims must match.

/** Number words a reply may count with (the card lines' list, up to ten). */
export const NUMBERS = NUMBER_WORDS.slice(0, 11);
const YES = /\b(yes|yeah|yep|aye|indeed|sure|i do|i see (?:one|it|a|an|two|three|some)|there(?:'s| is| are))\b/;
const NO = /\b(no|nay|nope|none|nothing|not|don'?t|can'?t|cannot|naught|never)\b/;

/** Lower case, tags ("[mood:calm]") dropped, "gray" read as grey, spaces collapsed. */
export function plainReply(text: string): string {
  return text.toLowerCase().replace(/[’`]/g, "'").replace(/\[[a-z_]+:[^\]]*\]/g, " ").replace(/\bgray\b/g, "grey").replace(/\s+/g, " ").trim();
}

/** "yes", "no" or null: the first polarity word of the reply decides. */
export function polarity(text: string): "yes" | "no" | null {
  const t = plainReply(text);
  const y = YES.exec(t), n = NO.exec(t);
  if (y && (!n || y.index < n.index)) return "yes";
  if (n) return "no";
  return null;
}

// "I don't see a bucket": the "a" after a denial of seeing counts nothing.
const DENIED_SIGHT = /\b(?:don'?t|do not|can'?t|cannot|not) see (?:a|an|any)$/;

/** The first count said (a number word or digits; "none"/"no"/"nothing" = 0, "I don't see a bucket" = 0). */
export function countOf(text: string): number | null {
  const t = plainReply(text);
  const m = /\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|\d+|none|no|nothing|a single|just the one|only one|a|an|any)\b/.exec(t);
  if (!m) return null;
  const w = m[1];
  if (DENIED_SIGHT.test(t.slice(0, m.index + w.length))) return 0;
  if (w === "any") return countOf(t.slice(m.index + w.length));
  if (/^\d+$/.test(w)) return Number(w);
  if (w === "none" || w === "no" || w === "nothing") return 0;
  if (w === "a single" || w === "just the one" || w === "only one" || w === "a" || w === "an") return 1;
  return NUMBERS.indexOf(w);
}

/** A prop a text names: its kind, its colour when said, how many (null: a plural with no number). */
export interface PropSaid {
  kind: Kind;
  colour: ColourWord | null;
  count: number | null;
}

/** What a text claims about the props: those it names, and the colours it says without a kind. */
export interface Claims {
  props: PropSaid[];
  colours: Set<ColourWord>;
}

const KIND_OF: Record<string, Kind> = Object.fromEntries(KINDS.flatMap((k) => [[k, k], [`${k}s`, k], [`${k}es`, k]]));
const COLOUR_SET = new Set<string>(COLOURS);
const NEGATION = new Set(["no", "not", "none", "nothing", "zero", "never", "nor", "without", "dont", "cant", "cannot", "nowhere", "nay", "nope"]);
const ONE = new Set(["a", "an", "one", "the", "this", "that", "another", "single", "lone"]);

const words = (c: string) => c.match(/[a-z0-9']+/g)?.map((w) => w.replace(/'/g, "")) ?? [];

/**
 * The clauses of a text that claim something: a clause with a negation denies, and so does a bare
 * list after it in the same sentence ("No barrels, crates or buckets"), but not one that starts
 * anew ("No barrels, but two sacks", "none here, a red crate there").
 */
function affirmed(t: string): string[][] {
  const out: string[][] = [];
  for (const sentence of t.split(/[.!;?]+/)) {
    let denying = false;
    for (const ws of sentence.split(/[:,]+|\s(?:and|but|or|while|with)\s/).map(words).filter((c) => c.length > 0)) {
      const bare = KIND_OF[ws[0]] !== undefined || COLOUR_SET.has(ws[0]) || ws[0] === "nor";
      denying = ws.some((w) => NEGATION.has(w)) || (denying && bare);
      if (!denying) out.push(ws);
    }
  }
  return out;
}

/**
 * Claims a text makes about props: "two grey sacks and a red barrel" → grey sack ×2, red barrel ×1.
 * Clauses that deny ("no barrels", "I don't see a crate") or only ask back ("A barrel?") claim nothing.
 */
export function claims(text: string): Claims {
  const t = plainReply(text);
  const props: PropSaid[] = [];
  const colours = new Set<ColourWord>();
  // Questions echo the player ("A barrel? None."): drop the asked part before reading.
  const stated = t.replace(/[^.!?;]*\?/g, ".");
  for (const ws of affirmed(stated)) {
    const attached = new Set<number>();
    ws.forEach((w, i) => {
      const kind = KIND_OF[w];
      if (!kind) return;
      let at = i - 1;
      let colour: ColourWord | null = null;
      // "red barrel", "red wooden barrel"
      for (const j of [i - 1, i - 2]) {
        if (j >= 0 && COLOUR_SET.has(ws[j])) { colour = ws[j] as ColourWord; attached.add(j); at = j - 1; break; }
      }
      const before = ws[at];
      const n = before === undefined ? -1 : /^\d+$/.test(before) ? Number(before) : NUMBERS.indexOf(before);
      const plural = w !== kind;
      const count = n >= 0 ? n : ONE.has(before ?? "") && !plural ? 1 : plural ? null : 1;
      props.push({ kind, colour, count });
    });
    ws.forEach((w, i) => { if (COLOUR_SET.has(w) && !attached.has(i)) colours.add(w as ColourWord); });
  }
  return { props, colours };
}

const labelOf = (p: PropSaid) => (p.colour ? `${p.colour} ${p.kind}` : p.kind);
// A side as said: "on my left", "to the right", "left side", "left of the well", "Left." ("if I've
// counted right" is no side).
const SIDE = /\b(?:on|to|at|off|by)\s+(?:the\s+|my\s+|your\s+|our\s+)?(left|right)\b|\b(left|right)(?=\s*(?:side|hand|of\b|-hand))|(?:^|[.!?,;:]\s*)(left|right)\b/g;
const sideWords = (t: string) => new Set([...t.matchAll(SIDE)].map((m) => m[1] ?? m[2] ?? m[3]));
const FRONT = /\b(front|nearer|closer)\b/, BEHIND = /\b(behind|farther|further)\b/;
function depthWord(t: string): "front" | "behind" | null {
  const f = FRONT.exec(t), b = BEHIND.exec(t);
  if (f && (!b || f.index < b.index)) return "front";
  return b ? "behind" : null;
}

/**
 * Where `reply` disagrees with `answer` (an answer line's text without its "sight answer: " lead,
 * core/vision/ask.ts) for the player's line `say`: one short reason per disagreement, none when
 * they agree. Every reply must not name a prop the answer does not; the question's kind adds its
 * own: a list names each thing as often as the answer does, a count says the number, yes/no the
 * same polarity, a colour the colour, a side the side, in front or behind the same order.
 */
export function disagreements(reply: string, answer: string, say: string): string[] {
  return agreementWith(answer, say)(reply);
}

/** disagreements() for one answer and question, read once, for each reply written to them. */
export function agreementWith(answer: string, say: string): (reply: string) => string[] {
  const q = readSightQuestion(say);
  const [propsPart, nearPart] = answer.split("; near:");
  const line = plainReply(propsPart);
  const truth = claims(line);
  const kinds = new Set(truth.props.map((p) => p.kind));
  const labels = new Set(truth.props.filter((p) => p.colour).map(labelOf));
  // "the barrel is red", "the red thing is a barrel", "two barrels: red and blue"
  for (const p of truth.props) if (!p.colour) for (const c of truth.colours) labels.add(`${c} ${p.kind}`);
  // "two brown things": any kind of that colour.
  const anyKind = truth.props.length === 0 && truth.colours.size > 0;
  return (reply) => {
    const r = plainReply(reply);
    const out: string[] = [];
    const said = claims(r);
    for (const p of said.props) {
      const ok = anyKind ? !p.colour || truth.colours.has(p.colour) : p.colour ? labels.has(labelOf(p)) : kinds.has(p.kind);
      if (!ok) out.push(`names a ${labelOf(p)} the answer does not`);
    }
    if (!q) return out;
    const lineNo = /^(no|nothing)\b/.test(line);
    // "where is the barrel?" under "no barrel in sight": the reply says so, not "There. The forge."
    // ("what's the purple thing?" under "no purple thing in sight" likewise, not "The tavern roof.")
    if (lineNo && (q.t === "side" || q.t === "colour" || q.t === "kind" || q.t === "depth" || q.t === "nearest") && !(NO.test(r) && said.props.length === 0)) out.push("does not say it is not in sight");
    switch (q.t) {
      case "list": {
        const want = new Map<string, number>();
        for (const p of truth.props) want.set(labelOf(p), (want.get(labelOf(p)) ?? 0) + (p.count ?? 2));
        for (const [label, n] of want) {
          const hits = said.props.filter((p) => labelOf(p) === label);
          if (hits.length === 0) { out.push(`leaves out the ${label}`); continue; }
          if (hits.some((p) => p.count === null)) { if (n < 2) out.push(`says ${label}s, the answer has one`); continue; }
          const m = hits.reduce((a, p) => a + p.count!, 0);
          if (m !== n) out.push(`says ${m} ${label}, the answer has ${n}`);
        }
        // The thing near by the answer names ("near: the tree crown"): "the tree" or "the crown" will do.
        const near = nearPart ? plainReply(nearPart).replace(/^the /, "") : "";
        if (near && !words(near).some((w) => w.length >= 3 && new RegExp(`\\b${w}`).test(r))) out.push(`leaves out the ${near}`);
        break;
      }
      case "count": {
        const n = countOf(line), m = countOf(r);
        if (m !== n) out.push(m === null ? "says no number" : `says ${m}, the answer is ${n}`);
        break;
      }
      case "exists": {
        // "A barrel, young one." says yes by naming it.
        const want = lineNo ? "no" : line.startsWith("yes") ? "yes" : null, got = polarity(r) ?? (said.props.length > 0 ? "yes" : null);
        if (want && got !== want) out.push(`does not say ${want}`);
        break;
      }
      case "colour":
      case "kind": {
        const saidColours = new Set([...said.colours, ...said.props.flatMap((p) => (p.colour ? [p.colour] : []))]);
        const lineColours = new Set([...truth.colours, ...truth.props.flatMap((p) => (p.colour ? [p.colour] : []))]);
        for (const c of saidColours) if (!lineColours.has(c)) out.push(`says ${c}, the answer does not`);
        if (!lineNo && q.t === "colour" && ![...lineColours].some((c) => saidColours.has(c))) out.push("does not say the colour");
        if (!lineNo && q.t === "kind" && !said.props.some((p) => kinds.has(p.kind))) out.push("does not say what it is");
        break;
      }
      case "nearest": {
        const first = truth.props[0], got = said.props[0];
        if (first && got && labelOf(got) !== labelOf(first)) out.push(`starts with the ${labelOf(got)}, the nearest is the ${labelOf(first)}`);
        if (first && !got) out.push(`does not name the ${labelOf(first)}`);
        break;
      }
      case "depth": {
        const want = depthWord(line), got = depthWord(r);
        if (!want) break;
        // "the crate is behind the barrel" says the same as "the barrel is in front of the crate": the
        // thing named before the depth word is the one the reply places ("Behind the crate." places
        // the one asked about).
        const [a, b] = truth.props;
        const at = Math.min(...[FRONT.exec(r)?.index, BEHIND.exec(r)?.index].filter((x): x is number => x !== undefined));
        const subject = claims(r.slice(0, at)).props.at(-1);
        const is = (x: PropSaid | undefined) => !!x && !!subject && subject.kind === x.kind && (!subject.colour || !x.colour || subject.colour === x.colour);
        const flipped = is(b) && !is(a);
        const expect = flipped ? (want === "front" ? "behind" : "front") : want;
        if (got !== expect) out.push(got ? `says ${got}, the answer is ${expect}` : "does not say in front or behind");
        // "the grey barrel is behind the grey barrel" places a thing against itself: no order at all.
        const object = Number.isFinite(at) ? claims(r.slice(at)).props[0] : undefined;
        if (subject?.colour && object?.colour && labelOf(subject) === labelOf(object)) out.push(`places the ${labelOf(subject)} against itself`);
        break;
      }
    }
    // One thing on one side: the reply names that side, not the other.
    const sides = sideWords(line);
    if ((q.t === "side" || q.t === "exists" || q.t === "nearest") && sides.size === 1) {
      const got = sideWords(r), want = [...sides][0];
      if (got.size > 0 && !got.has(want)) out.push(`says ${[...got][0]}, the answer is ${want}`);
      else if (q.t === "side" && got.size === 0) out.push(`does not say ${want}`);
    }
    return out;
  };
}

/**
 * An answer line said plainly, for when no written reply agrees with it: "no barrels" → "No
 * barrels.", "a red barrel and a blue crate; near: the well" → "A red barrel and a blue crate.
 * The well is near by."
 */
export function sayPlainly(answer: string): string {
  const [main, near] = answer.split("; near: ");
  const cap = (x: string) => x.charAt(0).toUpperCase() + x.slice(1);
  return `${cap(main.trim())}.${near ? ` ${cap(near.trim())} is near by.` : ""}`;
}

/** Does a piece of a reply claim nothing about the view (no prop, colour, number, side, depth or denial)? */
function claimsNothing(piece: string): boolean {
  const ws = words(plainReply(piece));
  return ws.length > 0 && !ws.some((w) => KIND_OF[w] || COLOUR_SET.has(w) || NEGATION.has(w) || NUMBERS.includes(w) || /^\d+$/.test(w) ||
    ["left", "right", "front", "behind", "nearer", "closer", "farther", "further", "nearest", "closest", "yes", "aye", "yeah", "yep", "sure", "indeed",
      "sight", "there", "here", "it", "its", "that", "this", "those", "them", "one", "ones"].includes(w));
}

/**
 * The reply that came closest, its claims replaced by the answer said plainly: its mood tag and its
 * opening words that claim nothing stay ("[mood:cheerful] Oh, let me see, dearie: " + "a red barrel
 * and two grey sacks. The well is near by."), so the NPC still sounds like itself.
 */
export function voicePlainly(least: string, plainly: string): string {
  const mood = moodTagOf(least);
  const body = least.replace(/\[[a-z_]+:[^\]]*\]/gi, " ").replace(/\s+/g, " ").trim();
  let opener = "";
  for (const piece of body.match(/[^.!?:,;]+[.!?:,;]*\s*/g) ?? []) {
    if (!claimsNothing(piece) || opener.length + piece.length > 60) break;
    opener += piece;
  }
  opener = opener.trim();
  const open = /[:,;]$/.test(opener);
  const said = open ? plainly.charAt(0).toLowerCase() + plainly.slice(1) : plainly;
  return [mood, opener, said].filter(Boolean).join(" ");
}

/**
 * The sight check as the server and the evaluations voice it (core/prompt/reply-check.ts): when no
 * try agrees, the answer said plainly in the closest reply's mood (else `defaultMood`) and opening words.
 */
export function sightReplyCheck(prompt: string, say: string, defaultMood?: string): ReplyCheck | null {
  const check = sightCheckFor(prompt, say);
  if (check === null) return null;
  const plain = check.plainly;
  const voice = plain === null ? null : (least: string) =>
    voicePlainly(moodTagOf(least) || defaultMood === undefined ? least : `[mood:${defaultMood}] ${least}`, plain);
  return { kind: "sight", agrees: check.agrees, voice };
}

/** How a reply about the props in sight is checked: what disagrees, and the answer said plainly (null without an answer line). */
export interface SightCheck {
  agrees: (reply: string) => string[];
  plainly: string | null;
}

/**
 * The check for a reply to `say` under `prompt`, or null when the prompt says nothing of the props
 * in sight: against its answer line when it has one, else against its summary of the view (then only
 * the props named: "what's that brown thing?" with no brown prop in view must not get "a barrel").
 */
export function sightCheckFor(prompt: string, say: string): SightCheck | null {
  const answer = answerInPrompt(prompt);
  if (answer !== null) return { agrees: agreementWith(answer, say), plainly: sayPlainly(answer) };
  const seen = summaryInPrompt(prompt);
  return seen === null ? null : { agrees: agreementWith(seen, ""), plainly: null };
}
