import { countOf, NUMBERS, polarity } from "../../core/vision/agree.ts";
import { COLOURS, KINDS } from "../../core/vision/vocab.ts";

// Scoring of grounded answers: what an NPC's reply says, read back as the canonical key of its
// question type (training/vision/questions.ts writes the keys), plus the hallucination measures:
// CHAIR (objects named that are not in view) and POPE-style yes/no probes. Polarity and counts are
// read as the server's sight check reads them (core/vision/agree.ts).

export { countOf, polarity };

const KIND_RE = new RegExp(`\\b(${KINDS.join("|")})(?:e?s)?\\b`, "g");
const COLOUR_RE = new RegExp(`\\b(${COLOURS.join("|")}|gray)\\b`, "g");

const norm = (s: string) => s.toLowerCase().replace(/\[[a-z_]+:[^\]]*\]/g, " ").replace(/\s+/g, " ").trim();

/** The "colour kind" pairs a reply names, in order ("red barrel", "two blue crates" → blue crate). */
export function mentions(text: string): { colour: string | null; kind: string }[] {
  // Sentences that deny ("No barrels, crates or sacks.", "Not a bucket.") name nothing seen.
  const t = norm(text).replace(/\bgray\b/g, "grey").split(/(?<=[.!?])\s+/)
    .filter((s) => !/^(no|not|nothing|none|nor|never)\b/.test(s.replace(/^[^a-z]+/, ""))).join(" ");
  const out: { colour: string | null; kind: string }[] = [];
  for (const m of t.matchAll(KIND_RE)) {
    const before = t.slice(Math.max(0, m.index - 24), m.index);
    const cols = [...before.matchAll(COLOUR_RE)];
    out.push({ colour: cols.length ? cols[cols.length - 1][1] : null, kind: m[1] });
  }
  return out;
}

const firstWord = (text: string, words: readonly string[]) => {
  const t = norm(text);
  let best: string | null = null, at = Infinity;
  for (const w of words) {
    const m = new RegExp(`\\b${w}\\b`).exec(t);
    if (m && m.index < at) { at = m.index; best = w; }
  }
  return best;
};

const SIDE_WORDS = ["left", "right"] as const;
const DEPTH_WORDS = ["front", "behind", "nearer", "closer", "farther", "further"] as const;

/** Does the reply give the key? One rule per key shape (yes/no, number, colour, kind, side,
 *  front/behind, "colour kind", a list of them, "none"). */
export function answerMatches(type: string, key: string | string[], text: string): boolean {
  if (Array.isArray(key)) {
    const said = new Set(mentions(text).map((m) => `${m.colour ?? "?"} ${m.kind}`));
    const want = new Set(key);
    return want.size === said.size && [...want].every((k) => said.has(k));
  }
  const k = key.toLowerCase();
  if (k === "yes" || k === "no") return polarity(text) === k;
  if (k === "none") return polarity(text) === "no" || /\b(don'?t|can'?t|cannot) see\b|\bno such\b|\bnot see\b|^(?:\W*\w+\W+)?zero\b/.test(norm(text));
  const n = NUMBERS.indexOf(k);
  if (n >= 0 || /^\d+$/.test(k)) return countOf(text) === (n >= 0 ? n : Number(k));
  if ((COLOURS as readonly string[]).includes(k)) return firstWord(text, COLOURS) === k;
  if ((KINDS as readonly string[]).includes(k)) return mentions(text)[0]?.kind === k;
  if (k === "left" || k === "right") return firstWord(text, SIDE_WORDS) === k;
  if (k === "front" || k === "behind") {
    const w = firstWord(text, DEPTH_WORDS);
    return k === "front" ? w === "front" || w === "nearer" || w === "closer" : w === "behind" || w === "farther" || w === "further";
  }
  const pair = /^(\w+) (\w+)$/.exec(k);
  if (pair) {
    const m = mentions(text)[0];
    return !!m && m.kind === pair[2] && m.colour === pair[1];
  }
  return norm(text).includes(k);
}

/** Chance accuracy of a question: one over the number of answers its type allows. */
export function chanceOf(type: string, key: string | string[]): number {
  if (Array.isArray(key)) return 0;
  const k = key.toLowerCase();
  if (k === "yes" || k === "no" || k === "left" || k === "right" || k === "front" || k === "behind") return 1 / 2;
  if (NUMBERS.includes(k) || /^\d+$/.test(k)) return 1 / 7;
  if ((COLOURS as readonly string[]).includes(k)) return 1 / COLOURS.length;
  if ((KINDS as readonly string[]).includes(k)) return 1 / KINDS.length;
  if (k === "none") return 1 / 2;
  return 1 / (KINDS.length * COLOURS.length);
}

/** CHAIR over "what do you see?" replies: `visible` holds "colour kind" of each prop in view.
 *  chair_i = named objects not in view ÷ all named; chair_s = replies naming one ÷ replies. */
export function chair(items: { text: string; visible: string[] }[]): { chair_i: number; chair_s: number; mentions: number } {
  let named = 0, bad = 0, badReplies = 0;
  for (const it of items) {
    const inView = new Set(it.visible);
    const kindsInView = new Set(it.visible.map((v) => v.split(" ")[1]));
    let any = false;
    for (const m of mentions(it.text)) {
      named++;
      const ok = m.colour ? inView.has(`${m.colour} ${m.kind}`) : kindsInView.has(m.kind);
      if (!ok) { bad++; any = true; }
    }
    if (any) badReplies++;
  }
  return { chair_i: named ? bad / named : 0, chair_s: items.length ? badReplies / items.length : 0, mentions: named };
}

/** POPE: yes/no probes whose truth is `truth`; F1 of "yes" and the share of "yes" answers. */
export function pope(items: { truth: "yes" | "no"; said: "yes" | "no" | null }[]): { f1: number; yes_ratio: number; accuracy: number; n: number } {
  let tp = 0, fp = 0, fn = 0, yes = 0, ok = 0;
  for (const it of items) {
    if (it.said === "yes") yes++;
    if (it.said === it.truth) ok++;
    if (it.said === "yes" && it.truth === "yes") tp++;
    else if (it.said === "yes" && it.truth === "no") fp++;
    else if (it.said !== "yes" && it.truth === "yes") fn++;
  }
  const p = tp / Math.max(1, tp + fp), r = tp / Math.max(1, tp + fn);
  return { f1: p + r > 0 ? (2 * p * r) / (p + r) : 0, yes_ratio: items.length ? yes / items.length : 0, accuracy: items.length ? ok / items.length : 0, n: items.length };
}
