import type { Rng } from "./rng.ts";

// Surface variation of player lines, so the model sees how people really type: casing,
// punctuation, typos, fillers, contractions, the odd emoji. Applied after a phrasing template
// is filled; never changes what is asked.

const KEYBOARD_NEIGHBOURS: Record<string, string> = {
  a: "qsz", b: "vn", c: "xv", d: "sf", e: "wr", f: "dg", g: "fh", h: "gj", i: "uo", j: "hk", k: "jl",
  l: "k", m: "n", n: "bm", o: "ip", p: "o", q: "wa", r: "et", s: "ad", t: "ry", u: "yi", v: "cb",
  w: "qe", x: "zc", y: "tu", z: "x",
};

const PREFIXES = ["hey, ", "um, ", "so ", "excuse me, ", "ok ", "well, ", "hmm, ", "listen, ", "oi, ", "sorry, "];
const SUFFIXES = [" please", " thanks", " mate", " :)", " then", " friend", " lol", " ?", " eh"];
const EMOJI = [" 🙂", " 😀", " 🤔", " 😅", " 👍", " 🍺", " ⚔️"];
const CONTRACTIONS: [RegExp, string][] = [
  [/\bwhat is\b/gi, "what's"], [/\bwhere is\b/gi, "where's"], [/\bdo not\b/gi, "don't"],
  [/\bI am\b/g, "I'm"], [/\byou are\b/gi, "you're"], [/\bit is\b/gi, "it's"], [/\bhow is\b/gi, "how's"],
];
const EXPANSIONS: [RegExp, string][] = [
  [/\bwhat's\b/gi, "what is"], [/\bwhere's\b/gi, "where is"], [/\bdon't\b/gi, "do not"],
  [/\bI'm\b/g, "I am"], [/\byou're\b/gi, "you are"], [/\bit's\b/gi, "it is"],
];
const SLANG: [RegExp, string][] = [
  [/\byou\b/gi, "u"], [/\bare\b/gi, "r"], [/\bplease\b/gi, "pls"], [/\bthanks\b/gi, "thx"], [/\bwhat\b/gi, "wat"],
];

function typo(word: string, rng: Rng): string {
  if (word.length < 4 || !/^[a-z]+$/i.test(word)) return word;
  const i = rng.int(1, word.length - 2);
  switch (rng.int(0, 3)) {
    case 0: return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2); // swap
    case 1: return word.slice(0, i) + word.slice(i + 1); // drop
    case 2: return word.slice(0, i) + word[i] + word.slice(i); // double
    default: {
      const near = KEYBOARD_NEIGHBOURS[word[i].toLowerCase()];
      return near ? word.slice(0, i) + rng.pick(near.split("")) + word.slice(i + 1) : word;
    }
  }
}

/** Returns a noisy variant of `line`; `level` 0 gives the line back unchanged. */
export function addNoise(line: string, rng: Rng, level = 1): string {
  if (level <= 0) return line;
  let s = line;
  if (rng.chance(0.2 * level)) for (const [re, rep] of rng.chance(0.5) ? CONTRACTIONS : EXPANSIONS) s = s.replace(re, rep);
  if (rng.chance(0.04 * level)) for (const [re, rep] of SLANG) if (rng.chance(0.6)) s = s.replace(re, rep);
  if (rng.chance(0.18 * level)) {
    const words = s.split(" ");
    const n = rng.chance(0.3) ? 2 : 1;
    for (let k = 0; k < n; k++) {
      const i = rng.int(0, words.length - 1);
      words[i] = typo(words[i], rng);
    }
    s = words.join(" ");
  }
  if (rng.chance(0.12 * level)) s = rng.pick(PREFIXES) + s.charAt(0).toLowerCase() + s.slice(1);
  // Final punctuation.
  const p = rng.float();
  if (p < 0.25 * level) s = s.replace(/[.?!]+$/, "");
  else if (p < 0.32 * level) s = s.replace(/[.?!]*$/, rng.pick(["??", "!!", "...", "?!", "!"]));
  if (rng.chance(0.08 * level)) s += rng.pick(SUFFIXES);
  if (rng.chance(0.02 * level)) s += rng.pick(EMOJI);
  // Casing.
  const c = rng.float();
  if (c < 0.3 * level) s = s.toLowerCase();
  else if (c < 0.33 * level) s = s.toUpperCase();
  else if (c < 0.8) s = s.charAt(0).toUpperCase() + s.slice(1);
  return s.replace(/\s+/g, " ").trim();
}
