import type { CharacterCard } from "../character/schema.ts";
import { moodTagOf } from "./reply-check.ts";

// A character's in-voice lines (`lines` of its card, by situation) with their {slots} filled. The
// data engine writes training replies with them; the server says them when a checked reply gets
// a fact, a price or a sale wrong (lore-check.ts, trade-check.ts).

/** Number words a reply may use for a small number ("twelve coins"). */
export const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
  "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"];

/** The ways a reply may write `n`: digits, and the word up to twenty. */
export const numberForms = (n: number): string[] => (n < NUMBER_WORDS.length ? [String(n), NUMBER_WORDS[n]] : [String(n)]);

// Neutral lines for cards without their own (an imported SillyTavern card, say).
const FALLBACK_LINES: Record<string, string[]> = {
  introduce: ["I am {name}, the {role}."], farewell: ["Farewell."], unknown: ["I do not know."],
  price: ["The {item} is {price} coins {unit}."], goods_list: ["I have {list}."], haggle_accept: ["{offer} coins. Agreed."],
  haggle_counter: ["Not {offer}. {counter} coins."], haggle_refuse: ["The price is {price} coins."], sold: ["Here is your {item}."],
  repair: ["I do not do repairs."], directions: ["The {place} is {dist} metres {dir}."], directions_here: ["You are there."],
  nearby: ["Near me: {list}."], what_is: ["That is the {thing}, {dist} metres {dir}."], angry: ["How rude."],
  cheerful: ["Thank you, that is kind."], afraid: ["Help! We must hide!"], sad: ["I am sorry to hear that."],
  thanks: ["You are welcome."], refuse_ooc: ["I know nothing of that."], injection: ["I am {name}, nothing else."],
  are_you_ai: ["I am {name}, the {role}."], emote: ["Very well."], give: ["Here."], give_refuse: ["I have no {item}."],
  walk: ["Follow me to the {place}."], point: ["There: the {thing}."], remember_name: ["You are {name}."],
  dont_know_name: ["I do not know your name."],
};

/** The card's lines for a situation, else neutral ones; throws for a situation neither has. */
export function linesFor(card: CharacterCard, key: string): string[] {
  const lines = card.lines[key] ?? FALLBACK_LINES[key];
  if (!lines) throw new Error(`no line "${key}" for ${card.id} and no fallback`);
  return lines;
}

/** `template` with its {slots} filled; throws when a slot has no value. */
export function fillLine(template: string, slots: Record<string, string | number>): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, key: string) => {
    if (!(key in slots)) throw new Error(`template "${template}" needs slot {${key}}`);
    return String(slots[key]);
  }).replace(/\b(the) the\b/gi, "$1"); // "the {place}" with "The Rusty Tankard"
}

/** "a, b and c": names as said in a list (the {list} slot of `nearby` and `goods_list` lines). */
export function listPhrase(names: readonly string[]): string {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** A mood-tagged line: `text` after the mood tag of `least` (the reply that came closest), else `defaultMood`'s. */
export function inMoodOf(least: string, text: string, defaultMood: string): string {
  return `${moodTagOf(least) ?? `[mood:${defaultMood}]`} ${text}`;
}

/** Capitalises the first letter of the line and of each sentence (slots may start one). */
export function sentenceCase(s: string): string {
  return s.replace(/(^|[.!?]\s+)([a-z])/g, (_m, pre: string, c: string) => pre + c.toUpperCase());
}

/**
 * The `pick`-th of the card's lines for `key` (wrapping), its slots filled: `slots`, and {address}
 * (one of the card's forms of address, else "friend"), {name} and {role} of the NPC.
 */
export function cardLine(card: CharacterCard, key: string, slots: Record<string, string | number> = {}, pick = 0): string {
  const lines = linesFor(card, key);
  const address = card.speakingStyle.address;
  const all = { address: address.length > 0 ? address[pick % address.length] : "friend", name: card.name, role: card.role, ...slots };
  try {
    return sentenceCase(fillLine(lines[pick % lines.length], all));
  } catch (e) {
    // A card line with a slot this situation does not have ({weapon} in a price line): the neutral line.
    const neutral = FALLBACK_LINES[key];
    if (!neutral || lines === neutral) throw e;
    return sentenceCase(fillLine(neutral[0], all));
  }
}
