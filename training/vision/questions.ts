import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CharacterCard } from "../../core/character/schema.ts";
import { renderCompletion, renderPrompt, type Turn } from "../../core/prompt/layout.ts";
import { personaCore, selectFacts } from "../../core/prompt/persona.ts";
import { COLOURS, KINDS, type ColourWord, type Kind } from "../../core/vision/vocab.ts";
import { addNoise } from "../data/noise.ts";
import { Rng } from "../data/rng.ts";
import { loadCards } from "../eval/world.ts";
import { parseFlags } from "./flags.ts";
import type { ViewRecord } from "./render.ts";
import { nearInAnswer, readSightQuestion } from "../../core/vision/ask.ts";
import { voice, type Core, type Voice } from "./voices.ts";

// Grounding questions about rendered views (CLEVR-style, from core/vision/view.ts truth),
// answered in the NPC's own voice. Reads <in>/<split>/views.jsonl, writes <in>/<split>/qa.jsonl:
//
//   npm run vision:questions -- --in data/vision --split train
//
// Types: exists, count, colour, kind, side, depth, nearest, what_see, pope. The train split uses
// one set of phrasings, every other split a disjoint held-out set. Props that are neither clearly
// in view nor clearly out of it (at the frame's edge, tiny, half hidden) are never asked about
// and never the subject of a "no".

export const TYPES = ["exists", "count", "colour", "kind", "side", "depth", "nearest", "what_see", "pope"] as const;
export type QType = (typeof TYPES)[number];

export type QaRecord = {
  view: number;
  npc: string;
  type: QType;
  question: string;
  /** The reply, mood tag first. */
  answer: string;
  /** Canonical answer: yes/no, a number word, a colour, a kind, left/right, front/behind, "colour kind", a list of those (what_see), or "none". */
  key: string | string[];
  probe?: "random" | "popular" | "adversarial";
  prompt: string;
  completion: string;
};

const NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight"];
const plural = (k: Kind) => `${k}s`;
type Prop = ViewRecord["props"][number];
const label = (p: { colour: string; kind: string }) => `${p.colour} ${p.kind}`;

/** A prop the eye may half see: not in view, but near the frame, in front and not tiny. */
function borderline(p: Prop): boolean {
  return !p.visible && p.depth > 0.2 && p.u > -0.15 && p.u < 1.15 && p.v > -0.15 && p.v < 1.15 && p.px >= 1.5;
}

// Question phrasings: [train, held out]. {k} kind, {ks} plural, {c} colour, {a}/{b} labels.
export const ASK: Record<string, [string[], string[]]> = {
  exists: [
    ["Do you see a {k}?", "Is there a {k} anywhere?", "Can you spot a {k}?", "Any {ks} in sight?", "You see any {ks} around?", "Is there a {k} in front of you?", "Is a {k} around here?", "Do you have eyes on a {k}?", "See a {k} anywhere?", "Any {k} nearby?", "Are there any {ks} you can see?", "Is there any {k} in sight?", "Can you see a {k} from where you are?", "Do you notice a {k}?"],
    ["Got a {k} in view?", "Any sign of a {k} out there?", "Can you make out a {k}?"],
  ],
  pope: [
    ["Is there a {c} {k}?", "Do you see a {c} {k}?", "Is there a {c} {k} in front of you?", "Can you see a {c} {k}?", "Any {c} {k} around?", "Do you notice a {c} {k}?", "Is there a {c} {k} anywhere?", "See a {c} {k}?", "Do you have eyes on a {c} {k}?", "Is a {c} {k} nearby?"],
    ["Is a {c} {k} in view?", "Any {c} {k} out there?", "Spot a {c} {k} anywhere?"],
  ],
  count: [
    ["How many {ks} do you see?", "How many {ks} are there?", "Count the {ks} for me.", "How many {ks} can you see?", "How many {ks} can you count?", "Tell me how many {ks} you see.", "Count up the {ks}.", "How many {ks} are around?", "What's the count of {ks}?", "How many {ks} are in sight?"],
    ["What's the number of {ks} in view?", "{ks}: how many?", "How many {ks} out there?"],
  ],
  countColour: [
    ["How many {c} things do you see?", "How many {c} things are there?", "Count the {c} ones for me.", "Count the {c} things.", "How many {c} ones are there?", "How many {c} things are around?", "How many {c} things are in sight?"],
    ["How many things are {c}?", "What number of {c} things can you see?"],
  ],
  colour: [
    ["What colour is the {k}?", "What color is that {k}?", "The {k}, what colour is it?", "Which colour is the {k} you see?", "What colour's the {k}?", "Which colour is that {k}?", "What's the colour of the {k}?", "The {k} you see, what colour?", "What color is the {k}?", "And the {k}? What colour?"],
    ["Tell me the {k}'s colour.", "What shade is the {k}?", "How's the {k} coloured?"],
  ],
  kind: [
    ["What is the {c} thing?", "What's that {c} thing?", "The {c} one, what is it?", "What kind of thing is the {c} one?", "What's the {c} one?", "What is that {c} thing there?", "Which thing is {c}?", "The {c} thing you see, what is it?", "What kind of thing is {c}?"],
    ["Name the {c} object for me.", "What's the {c} object you see?", "Tell me what the {c} thing is."],
  ],
  side: [
    ["Is the {a} on your left or your right?", "Which side is the {a} on?", "Where's the {a}, left or right?", "The {a}: left or right of you?", "Is the {a} to your left or to your right?", "The {a}, is it on your left or right?", "On which side do you see the {a}?", "Is the {a} left of you or right of you?", "Where is the {a}, your left or your right?", "Where is the {a}?", "Where's the {a}?"],
    ["Which hand is the {a} nearer, left or right?", "Left or right, the {a}?", "Which way is the {a}, left or right?"],
  ],
  depth: [
    ["Is the {a} in front of or behind the {b}?", "Is the {a} nearer than the {b}?", "Which is further back, the {a} or the {b}? Is the {a} in front or behind?", "Is the {a} closer to you than the {b}?", "Is the {a} in front of the {b} or behind it?", "The {a} and the {b}: is the {a} in front or behind?", "Is the {a} behind the {b}?"],
    ["Compared with the {b}, is the {a} in front or behind?", "Does the {a} stand before or behind the {b}?"],
  ],
  nearest: [
    ["What's nearest to you?", "Which thing is closest to you?", "What is the closest thing you see?", "What's right in front of you, nearest?", "What is nearest to you?", "What's the closest thing?", "Which thing is nearest you?", "What sits nearest to you?", "Of what you see, what's closest?"],
    ["What's the nearest object you can see?", "Closest thing to you?", "Which is the nearest thing in view?"],
  ],
  what_see: [
    ["What do you see?", "What can you see in front of you?", "Tell me everything you see.", "What's in front of you?", "What things can you see?", "What do you see around you?", "Tell me what you see.", "What are you looking at?", "What can you see from here?", "Look around: what do you see?"],
    ["Describe what's before you.", "List what you can see.", "What's out there in front of you?"],
  ],
};

// Train phrasings are also dressed now and then, the way players talk: an opener before, a word
// after (besides the typing noise's fillers, both splits). Held-out phrasings are never dressed, so
// other splits stay as they were.
export const DRESS: { openers: string[]; closers: string[] } = {
  openers: ["Say, ", "Tell me, ", "Quick question: ", "Friend, ", "Right, ", "Now then, ", "Look here, "],
  closers: [" Please.", " Be honest.", " I'm curious.", " Go on."],
};

function dress(t: string, rng: Rng): string {
  let out = t;
  if (rng.chance(0.3)) out = rng.pick(DRESS.openers) + out.charAt(0).toLowerCase() + out.slice(1);
  if (rng.chance(0.15)) out += rng.pick(DRESS.closers);
  return out;
}

// (train only) "what do you see?" as players put it: a verb and what is in view, composed, so the
// reply follows the answer line's list rather than a few memorised phrasings. The held-out
// phrasings are never made; a composition the sight reader would not read as asking for the whole
// view (core/vision/ask.ts) is not used, since the game would give it no list.
const SEE_VERBS = ["describe", "list", "name", "tell me", "say", "go through", "run through", "give me"];
const SEE_WHAT = ["what you see", "what you can see", "what's around you", "what is in front of you", "everything you see", "the things you see", "what you're looking at", "what's ahead of you", "what lies ahead", "what's in view", "the view", "your surroundings"];
const SEE_ASKS = ["what's ahead?", "what's out there?", "what lies before you?", "anything in view?", "what's in view?", "what are you seeing?", "what d'you see?", "what do your eyes see?", "what do you see out there?"];
const SEE_HELDOUT = new Set(ASK.what_see[1].map((q) => q.toLowerCase().replace(/[^a-z' ]/g, "").trim()));

function seeAsked(rng: Rng): string | null {
  const q = rng.chance(0.7) ? `${rng.pick(SEE_VERBS)} ${rng.pick(SEE_WHAT)}${rng.pick([".", "", "?", " please."])}` : rng.pick(SEE_ASKS);
  if (SEE_HELDOUT.has(q.toLowerCase().replace(/[^a-z' ]/g, "").trim())) return null;
  if (readSightQuestion(q)?.t !== "list") return null;
  return q.charAt(0).toUpperCase() + q.slice(1);
}

type Ask = { type: QType; q: string; key: string | string[]; core: Parameters<Voice>[0]; probe?: QaRecord["probe"] };

function fill(t: string, vars: Record<string, string>): string {
  let s = t;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, v);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Builds one question of `type` about view `r`, or null when the view cannot carry it. */
function makeQuestion(type: QType, r: ViewRecord, rng: Rng, heldout: boolean, ctx: { popular: string[]; popeYes: () => boolean; nextProbe: () => "random" | "popular" | "adversarial" }): Ask | null {
  const vis = r.props.filter((p) => p.visible);
  const border = r.props.filter(borderline);
  const phr = (k: string) => (heldout ? rng.pick(ASK[k][1]) : dress(rng.pick(ASK[k][0]), rng));
  const unsure = (pred: (p: Prop) => boolean) => border.some(pred);
  const labels = (ps: Prop[]) => ps.map(label);
  switch (type) {
    case "exists": {
      // Half the time a kind in view, so yes and no come about equally often.
      const present = KINDS.filter((k) => vis.some((p) => p.kind === k));
      const kind = present.length > 0 && rng.chance(0.5) ? rng.pick(present) : rng.pick(KINDS);
      if (unsure((p) => p.kind === kind)) return null;
      const n = vis.filter((p) => p.kind === kind);
      const q = fill(phr("exists"), { k: kind, ks: plural(kind) });
      return n.length > 0
        ? { type, q, key: "yes", core: { t: "yes", what: n.length === 1 ? label(n[0]) : `${NUMBERS[Math.min(n.length, 8)]} ${plural(kind)}`, side: n.length === 1 ? sideOf(n[0]) : undefined } }
        : { type, q, key: "no", core: { t: "no", what: `${kind}` } };
    }
    case "pope": {
      const wantYes = ctx.popeYes();
      const seen = new Set(labels(vis));
      const avoid = new Set([...seen, ...labels(border)]);
      if (wantYes) {
        if (vis.length === 0) return null;
        const p = rng.pick(vis);
        const [c, k] = [p.colour, p.kind];
        return { type, q: fill(phr("pope"), { c, k }), key: "yes", core: { t: "yes", what: label(p), side: sideOf(p) } };
      }
      const probe = ctx.nextProbe();
      let cands: string[] = [];
      const all = KINDS.flatMap((k) => COLOURS.map((c) => `${c} ${k}`)).filter((l) => !avoid.has(l));
      if (probe === "random") cands = all;
      else if (probe === "popular") cands = ctx.popular.filter((l) => !avoid.has(l)).slice(0, 6);
      else {
        // Adversarial: the same kind in another colour, or the same colour on another kind.
        for (const p of vis) for (const l of all) {
          const [c, k] = l.split(" ");
          if ((k === p.kind) !== (c === p.colour)) cands.push(l);
        }
      }
      if (cands.length === 0) return null;
      const l = rng.pick(cands);
      const [c, k] = l.split(" ");
      return { type, q: fill(phr("pope"), { c, k }), key: "no", core: { t: "no", what: l }, probe };
    }
    case "count": {
      if (rng.chance(0.75)) {
        // Mostly kinds in view, so counts are not nearly all zero.
        const present = KINDS.filter((k) => vis.some((p) => p.kind === k));
        const kind = present.length > 0 && rng.chance(0.75) ? rng.pick(present) : rng.pick(KINDS);
        if (unsure((p) => p.kind === kind)) return null;
        const n = vis.filter((p) => p.kind === kind).length;
        return { type, q: fill(phr("count"), { k: kind, ks: plural(kind) }), key: NUMBERS[n], core: { t: "count", n: NUMBERS[n], what: n === 1 ? kind : plural(kind as Kind) } };
      }
      const shown = COLOURS.filter((c) => vis.some((p) => p.colour === c));
      const colour = shown.length > 0 && rng.chance(0.75) ? rng.pick(shown) : rng.pick(COLOURS);
      if (unsure((p) => p.colour === colour)) return null;
      const n = vis.filter((p) => p.colour === colour).length;
      return { type, q: fill(phr("countColour"), { c: colour }), key: NUMBERS[n], core: { t: "count", n: NUMBERS[n], what: n === 1 ? `${colour} thing` : `${colour} things` } };
    }
    case "colour": {
      // (train only, now and then) a kind seen more than once: each one's colour.
      if (!heldout && rng.chance(0.15)) {
        const many = KINDS.filter((k) => vis.filter((p) => p.kind === k).length >= 2 && !unsure((p) => p.kind === k));
        if (many.length > 0) {
          const kind = rng.pick(many);
          const items = vis.filter((p) => p.kind === kind).sort((x, y) => x.depth - y.depth).map(label);
          return { type, q: fill(phr("colour"), { k: kind }), key: items, core: { t: "list", items } };
        }
      }
      // Ask about a kind seen exactly once; now and then a kind not in view (no answer).
      const once = KINDS.filter((k) => vis.filter((p) => p.kind === k).length === 1 && !unsure((p) => p.kind === k));
      const absent = KINDS.filter((k) => !vis.some((p) => p.kind === k) && !unsure((p) => p.kind === k));
      if (once.length > 0 && (absent.length === 0 || rng.chance(0.8))) {
        const kind = rng.pick(once);
        const p = vis.find((x) => x.kind === kind)!;
        return { type, q: fill(phr("colour"), { k: kind }), key: p.colour, core: { t: "colour", colour: p.colour, kind } };
      }
      if (absent.length === 0) return null;
      const kind = rng.pick(absent);
      return { type, q: fill(phr("colour"), { k: kind }), key: "none", core: { t: "none", what: kind } };
    }
    case "kind": {
      const once = COLOURS.filter((c) => vis.filter((p) => p.colour === c).length === 1 && !unsure((p) => p.colour === c));
      const absent = COLOURS.filter((c) => !vis.some((p) => p.colour === c) && !unsure((p) => p.colour === c));
      if (once.length > 0 && rng.chance(0.85)) {
        const colour = rng.pick(once);
        const p = vis.find((x) => x.colour === colour)!;
        return { type, q: fill(phr("kind"), { c: colour }), key: p.kind, core: { t: "kind", colour, kind: p.kind } };
      }
      // A colour no prop has may be a landmark's ("what's that yellow thing?" - the gate lantern):
      // training drops the question when a nearby line has the colour (questionsFor).
      if (absent.length === 0) return null;
      const colour = rng.pick(absent);
      return { type, q: fill(phr("kind"), { c: colour }), key: "none", core: { t: "none", what: `${colour} thing` } };
    }
    case "side": {
      if (!heldout) {
        const other = sideAsPlayersAsk(vis, unsure, rng);
        if (other) return { type, q: fill(phr("side"), { a: other.ask }), key: other.key, core: other.core };
      }
      const uniq = vis.filter((p) => vis.filter((x) => label(x) === label(p)).length === 1 && !unsure((x) => label(x) === label(p)) && Math.abs(p.u - 0.5) >= 0.08);
      if (uniq.length === 0) return null;
      const p = rng.pick(uniq);
      return { type, q: fill(phr("side"), { a: label(p) }), key: p.side, core: { t: "side", what: label(p), side: p.side } };
    }
    case "depth": {
      const uniq = vis.filter((p) => vis.filter((x) => label(x) === label(p)).length === 1);
      const pairs: [Prop, Prop][] = [];
      for (const a of uniq) for (const b of uniq) if (a !== b && Math.abs(a.depth - b.depth) >= Math.max(1, 0.2 * Math.min(a.depth, b.depth))) pairs.push([a, b]);
      if (pairs.length === 0) return null;
      const [a, b] = rng.pick(pairs);
      const key = a.depth < b.depth ? "front" : "behind";
      return { type, q: fill(phr("depth"), { a: label(a), b: label(b) }), key, core: { t: "depth", a: label(a), b: label(b), rel: key } };
    }
    case "nearest": {
      if (vis.length === 0 || border.length > 0) return null;
      const sorted = [...vis].sort((x, y) => x.depth - y.depth);
      if (sorted.length > 1 && sorted[1].depth - sorted[0].depth < 0.8) return null;
      if (sorted.length > 1 && label(sorted[0]) === label(sorted[1])) return null;
      return { type, q: phr("nearest"), key: label(sorted[0]), core: { t: "nearest", what: label(sorted[0]), side: sideOf(sorted[0]) } };
    }
    case "what_see": {
      if (border.length > 0) return null;
      // Said nearest first, as the sight lines list them.
      const items = [...vis].sort((x, y) => x.u - y.u).map(label);
      const q = (!heldout && rng.chance(0.4) && seeAsked(rng)) || phr("what_see");
      return { type, q, key: items, core: { t: "list", items: [...vis].sort((x, y) => x.depth - y.depth).map(label) } };
    }
  }
}

/**
 * Side questions as players also ask them (train only, about a third of the time): about a kind
 * ("where's the barrel?") when one of it is in view, about a thing not in view (none), or about a
 * kind seen more than once (each one and its side, as the answer line gives them). Null: ask as usual.
 */
function sideAsPlayersAsk(vis: Prop[], unsure: (pred: (p: Prop) => boolean) => boolean, rng: Rng): { ask: string; key: string | string[]; core: Core } | null {
  const r = rng.float();
  const clear = (p: Prop) => Math.abs(p.u - 0.5) >= 0.08;
  const ofKind = (k: string) => vis.filter((p) => p.kind === k);
  if (r < 0.15) {
    const once = KINDS.filter((k) => ofKind(k).length === 1 && clear(ofKind(k)[0]) && !unsure((p) => p.kind === k));
    if (once.length === 0) return null;
    const p = ofKind(rng.pick(once))[0];
    return { ask: p.kind, key: p.side, core: { t: "side", what: p.kind, side: p.side } };
  }
  if (r < 0.27) {
    const absent = KINDS.flatMap((k) => [k, ...COLOURS.map((c) => `${c} ${k}`)]).filter((a) => !vis.some((p) => a === p.kind || a === label(p)) && !unsure((p) => a === p.kind || a === label(p)));
    if (absent.length === 0) return null;
    const a = rng.pick(absent);
    return { ask: a, key: "none", core: { t: "none", what: a } };
  }
  if (r < 0.35) {
    const many = KINDS.filter((k) => ofKind(k).length >= 2 && ofKind(k).every(clear) && !unsure((p) => p.kind === k));
    if (many.length === 0) return null;
    const ps = ofKind(rng.pick(many)).sort((x, y) => x.depth - y.depth);
    return { ask: ps[0].kind, key: ps.map(label), core: { t: "list", items: ps.map((p) => `${label(p)} on my ${p.side}`) } };
  }
  return null;
}

function sideOf(p: Prop): "left" | "right" | undefined {
  return Math.abs(p.u - 0.5) >= 0.12 ? p.side : undefined;
}

function parseArgs(argv: string[]): { in: string; split: string; perView: number; seed: number } {
  const a = parseFlags(argv, ["in", "split", "per-view", "seed"]);
  if (!a.split) throw new Error("--split is required (e.g. --split train)");
  const perView = a["per-view"] === undefined ? 6 : Number(a["per-view"]);
  if (!Number.isInteger(perView) || perView < 1) throw new Error(`--per-view must be a whole number ≥ 1, got "${a["per-view"]}"`);
  return { in: a.in ?? "data/vision", split: a.split, perView, seed: Number(a.seed ?? 1) || 1 };
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Questions for every view of a split, about `perView` each, types balanced over the split. */
/** The prompt of a question: by default the view's placeholders; `promptFor` gives another (the sight lines of training/vision/sight-data.ts). */
export type PromptFor = (r: ViewRecord, card: CharacterCard, question: string, history?: Turn[]) => string;

const imagePrompt: PromptFor = (_r, card, question, history = []) => renderPrompt({ persona: personaCore(card), facts: selectFacts(card, question, 4), view: 16, nearby: [], history, say: question });

export function questionsFor(views: ViewRecord[], cards: Map<string, CharacterCard>, opts: { split: string; perView: number; seed: number; promptFor?: PromptFor }): QaRecord[] {
  const rng = new Rng(`vision-qa-${opts.split}-${opts.seed}`);
  const heldout = opts.split !== "train";
  const freq = new Map<string, number>();
  for (const r of views) for (const p of r.props) if (p.visible) freq.set(label(p), (freq.get(label(p)) ?? 0) + 1);
  const popular = [...freq.entries()].sort((a, b) => b[1] - a[1]).map(([l]) => l);
  let yes = 0, no = 0, probeTurn = 0;
  const probes = ["random", "popular", "adversarial"] as const;
  const ctx = { popular, popeYes: () => yes <= no, nextProbe: () => probes[probeTurn++ % 3] };
  const used = new Map<QType, number>(TYPES.map((t) => [t, 0]));
  const ids = [...cards.keys()].sort();
  const out: QaRecord[] = [];
  for (const r of views) {
    const npc = cards.has(r.npc.id) ? r.npc.id : ids[r.index % ids.length];
    const card = cards.get(npc)!;
    const order = rng.shuffle([...TYPES]).sort((a, b) => used.get(a)! - used.get(b)!);
    let made = 0;
    // (train only) now and then the question follows an earlier one about the same view, as in a
    // conversation: the reply must come from this question's answer line, not the last reply.
    let last: Turn[] = [];
    for (const type of order) {
      if (made >= opts.perView) break;
      const ask = makeQuestion(type, r, rng, heldout, ctx);
      if (!ask) continue;
      const question = addNoise(ask.q, rng, 1);
      const history = !heldout && last.length > 0 && rng.chance(0.35) ? last : [];
      const prompt = (opts.promptFor ?? imagePrompt)(r, card, question, history);
      // "what's that yellow thing?" with no yellow prop in sight: "none" is taught only where the
      // prompt's answer line says so (core/vision/ask.ts: nothing nearby has the colour either); with
      // no answer line the nearby lines answer (a landmark), which the dialogue data teaches.
      if (!heldout && type === "kind" && ask.core.t === "none" && prompt.includes("<|near|>") && !prompt.includes(`sight answer: no ${ask.core.what} in sight`)) continue;
      if (type === "pope") { if (ask.key === "yes") yes++; else no++; }
      made++;
      used.set(type, used.get(type)! + 1);
      // A list also names what the prompt's answer line gives as near (core/vision/ask.ts).
      const near = ask.core.t === "list" ? nearInAnswer(prompt) : null;
      const core: Core = ask.core.t === "list" && near ? { ...ask.core, near } : ask.core;
      const reply = `[mood:${card.defaultMood}] ${voice(npc, rng)(core)}`;
      last = [{ role: "player", text: question }, { role: "npc", text: reply }];
      out.push({ view: r.index, npc, type, question, answer: reply, key: ask.key, ...(ask.probe ? { probe: ask.probe } : {}), prompt, completion: renderCompletion(reply) });
    }
  }
  return out;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const dir = path.resolve(ROOT, args.in, args.split);
  const file = path.join(dir, "views.jsonl");
  if (!existsSync(file)) throw new Error(`${file} not found: render the split first (npm run vision:render -- --split ${args.split})`);
  const views = readFileSync(file, "utf8").split("\n").filter(Boolean).map((l, i) => {
    try { return JSON.parse(l) as ViewRecord; } catch { throw new Error(`${file}:${i + 1}: not valid JSON`); }
  });
  const cards = loadCards(ROOT);
  if (cards.size === 0) throw new Error("no character cards under adapters/<id>/character.json");
  const qa = questionsFor(views, cards, { split: args.split, perView: args.perView, seed: args.seed });
  writeFileSync(path.join(dir, "qa.jsonl"), qa.map((q) => JSON.stringify(q)).join("\n") + "\n");
  const by = new Map<string, number>();
  for (const q of qa) {
    const k = q.type === "pope" ? `pope/${q.key}${q.probe ? "/" + q.probe : ""}` : q.type;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  console.log(`${args.split}: ${qa.length} questions over ${views.length} views → ${path.relative(ROOT, path.join(dir, "qa.jsonl"))}`);
  for (const [k, n] of [...by.entries()].sort()) console.log(`  ${k.padEnd(24)} ${n}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try { main(); } catch (err) { console.error(err instanceof Error ? err.message : String(err)); process.exit(1); }
}
