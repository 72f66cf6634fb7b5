import { listPhrase } from "../prompt/card-lines.ts";
import type { Colour, SceneObject } from "../scene/schema.ts";

// The grounding vocabulary: the kinds of movable prop an NPC is asked about and the colour words
// it answers with. Props carry tags like ["barrel", "red", "wood"] (scenes/village.json); a prop
// is named from its tags first and, for the colour, from its RGB when no tag names one.

export const KINDS = ["barrel", "crate", "sack", "bucket"] as const;
export type Kind = (typeof KINDS)[number];

/** The primitive each kind is drawn as (core/scene/schema.ts shapes). */
export const KIND_SHAPE: Record<Kind, "cylinder" | "box" | "sphere"> = {
  barrel: "cylinder",
  crate: "box",
  sack: "sphere",
  bucket: "cylinder",
};

/** How a sight line says a count of props: "no barrels", "one barrel", "two barrels"; eight or more say "eight". */
export const COUNT_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight"] as const;

/** "a red barrel", "an orange…"; a counted phrase ("two barrels") takes no article. */
export function withArticle(w: string): string {
  return /^(two|three|four|five|six|seven|eight) /.test(w) ? w : /^[aeiou]/.test(w) ? `an ${w}` : `a ${w}`;
}

/**
 * "a red barrel, two grey sacks and a white sack": things as said aloud, in order, the same thing
 * seen twice or more counted where it first comes ("a grey sack, a grey sack" made the small model
 * lose its place in the list and repeat the item).
 */
export function spokenList(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const it of items) counts.set(it, (counts.get(it) ?? 0) + 1);
  const xs = [...counts].map(([it, n]) => (n === 1 ? withArticle(it) : countPhrase(n, it)));
  return listPhrase(xs);
}

/** "two barrels", "one red thing": `n` of `what` (a kind or "<colour> thing"), in count words. */
export function countPhrase(n: number, what: string): string {
  return `${COUNT_WORDS[Math.min(n, COUNT_WORDS.length - 1)]} ${what}${n === 1 ? "" : "s"}`;
}

export const COLOURS = ["red", "blue", "green", "yellow", "brown", "grey", "white", "purple"] as const;
export type ColourWord = (typeof COLOURS)[number];

/** The colour words a name or colour phrase holds ("dark brown" → brown, "gray cloak" → grey). */
export function colourWordsIn(text: string): ColourWord[] {
  const t = text.toLowerCase().replace(/\bgray\b/g, "grey");
  return COLOURS.filter((c) => new RegExp(`\\b${c}\\b`).test(t));
}

/** Canonical RGB (0..1) of each colour word: what a generated prop of that colour is painted. */
export const COLOUR_RGB: Record<ColourWord, [number, number, number]> = {
  red: [0.66, 0.16, 0.13],
  blue: [0.18, 0.34, 0.62],
  green: [0.22, 0.5, 0.22],
  yellow: [0.86, 0.7, 0.18],
  brown: [0.45, 0.3, 0.17],
  grey: [0.5, 0.5, 0.48],
  white: [0.9, 0.88, 0.82],
  purple: [0.47, 0.3, 0.62],
};

/** Tag words that mean a colour word (village tags use a few near-synonyms). */
const COLOUR_ALIASES: Record<string, ColourWord> = {
  gray: "grey", dark: "brown", black: "grey", orange: "yellow", violet: "purple", lavender: "purple",
};

export type PropName = { kind: Kind; colour: ColourWord };

function toRgb(c: Colour): [number, number, number] {
  if (typeof c !== "string") return [c[0], c[1], c[2]];
  const n = Number.parseInt(c.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

/** Nearest colour word to an RGB colour (squared distance to the canonical colours). */
export function colourWordOf(c: Colour): ColourWord {
  const [r, g, b] = toRgb(c);
  let best: ColourWord = "grey";
  let bestD = Infinity;
  for (const w of COLOURS) {
    const [pr, pg, pb] = COLOUR_RGB[w];
    const d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
    if (d < bestD) { bestD = d; best = w; }
  }
  return best;
}

/** The kind a tag list names, or null. */
export function kindOfTags(tags: readonly string[]): Kind | null {
  for (const t of tags) if ((KINDS as readonly string[]).includes(t)) return t as Kind;
  return null;
}

/** The colour word a tag list names, or null. */
export function colourOfTags(tags: readonly string[]): ColourWord | null {
  for (const t of tags) {
    if ((COLOURS as readonly string[]).includes(t)) return t as ColourWord;
  }
  for (const t of tags) if (COLOUR_ALIASES[t]) return COLOUR_ALIASES[t];
  return null;
}

/**
 * Kind and colour of a scene object when it is one of the grounding props: a kind tag and the
 * shape that kind is drawn as (a "barrel" box is not counted). Colour from the tags, else the RGB.
 */
export function nameProp(o: Pick<SceneObject, "tags" | "shape" | "colour">): PropName | null {
  const kind = kindOfTags(o.tags);
  if (!kind || o.shape.kind !== KIND_SHAPE[kind]) return null;
  return { kind, colour: colourOfTags(o.tags) ?? colourWordOf(o.colour) };
}

/** "red barrel". */
export function propLabel(p: PropName): string {
  return `${p.colour} ${p.kind}`;
}
