import type { CharacterCard } from "../character/schema.ts";

/** The random choices restating needs (training/data/rng.ts's seeded Rng has them). */
export interface Chooser {
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

// A card fact said by the NPC itself: "Brom has worked the Oakhollow forge for thirty years." →
// "Aye. I have worked the Oakhollow forge for thirty years." Replies like these teach that a fact
// question is answered from the matching fact line of the prompt, a copy that would work for facts
// never asked about in training (the card's `say` lines, by contrast, are learnt per fact and say
// nothing for a new one). Data engine `--restate-facts P`, synthetic-facts.ts; the lore check
// (lore-check.ts) says a fact this way when no reply agrees with it and the card has no line for it.
//
// Rules (English, small on purpose): the NPC's name as a subject ("Brom has", "Wen healed") becomes
// "I" with the verb put to the first person (has → have, is → am, needs → need); as an object or
// after a preposition "me"; "Brom's" "my". In a sentence whose subject is the NPC, his/her → my,
// he/she → I, him → me. Other people's names and pronouns stay.

const IRREGULAR: Record<string, string> = { has: "have", is: "am", was: "was", does: "do", "doesn't": "don't", "isn't": "am not" };

/** A third-person singular present verb in the first person, or undefined if `w` is not one. */
function firstPerson(w: string): string | undefined {
  const lower = w.toLowerCase();
  if (lower in IRREGULAR) return IRREGULAR[lower];
  if (/ed$/.test(lower) || /^(once|always|never|often|still|also|now|too)$/.test(lower)) return lower; // past tense and adverbs stay
  if (/(ss|sh|ch|x|z|o)es$/.test(lower)) return lower.slice(0, -2);
  if (/[^aeiou]ies$/.test(lower)) return lower.slice(0, -3) + "y";
  if (/[^s]s$/.test(lower)) return lower.slice(0, -1);
  return undefined;
}

/** The ways a fact names the NPC, longest first: "Old Wen", "Wen"; "Brom Ironhand", "Brom". */
function namesOf(card: CharacterCard): string[] {
  const words = card.name.split(" ");
  const first = words.filter((w) => w !== "Old")[0] ?? card.name;
  return [...new Set([card.name, first])].sort((a, b) => b.length - a.length);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// Words after which the NPC's name is an object ("pays Brom", "gives Hilde herbs"), not a subject.
const OBJECT_AFTER = new Set("from to for by with at of about than near like gives pays serves calls tells asks healed sends thanks told saw see".split(" "));

/** The fact in the NPC's own words (first person); facts not about the NPC come back unchanged. */
export function firstPersonFact(card: CharacterCard, fact: string): string {
  const names = namesOf(card).map(escape).join("|");
  // "Brom's" / "Old Wen's" → "my"
  let s = fact.replace(new RegExp(`\\b(?:${names})'s\\b`, "g"), "my");
  const startsWithSelf = new RegExp(`^(?:${names})\\s`).test(s);
  // The name as a subject: followed by a verb (or an adverb and a verb), not after a preposition.
  s = s.replace(new RegExp(`\\b(?:${names})\\b(\\s+)([A-Za-z']+)(?:(\\s+)([A-Za-z']+))?`, "g"),
    (m, sp1: string, w1: string, sp2: string | undefined, w2: string | undefined, at: number, all: string) => {
      const before = all.slice(0, at).match(/([A-Za-z']+)\s*$/)?.[1] ?? "";
      if (OBJECT_AFTER.has(before.toLowerCase())) return m;
      if (/^(once|always|never|often|still|also)$/i.test(w1) && w2 !== undefined) {
        const v2 = firstPerson(w2);
        if (v2 !== undefined) return `I${sp1}${w1}${sp2}${v2}`;
      }
      const v1 = firstPerson(w1);
      if (v1 !== undefined) return `I${sp1}${v1}${w2 !== undefined ? sp2 + w2 : ""}`;
      return m;
    });
  // Anything left is an object: "pays Brom on time" → "pays me on time".
  s = s.replace(new RegExp(`\\b(?:${names})\\b`, "g"), "me");
  if (startsWithSelf) {
    // The NPC is the sentence's subject: its possessives are "my", a second verb ("… and mends")
    // and a later "he/she <verb>" are the first person too.
    s = s.replace(/\b(his|her)\b(?=\s+[a-z])/g, "my")
      .replace(/\b(he|she)\s+([a-z']+)/g, (m, _p: string, w: string) => `I ${firstPerson(w) ?? w}`)
      .replace(/\band\s+([a-z']+s)\b/g, (m, w: string) => `and ${firstPerson(w) ?? w}`);
  }
  s = s.replace(/^me\b/, "I");
  return s[0].toUpperCase() + s.slice(1);
}

/** Joins a tic and a sentence: "Oh, dearie," + "Oakhollow was…" → "Oh, dearie, Oakhollow was…".
 *  After a comma the first word is lower-cased when the card writes it in lower case somewhere
 *  (a common word: "The", "Wolves"), and kept when it never does (a name: "Oakhollow", "I"). */
function withTic(card: CharacterCard, tic: string, text: string): string {
  if (/[.!?]$/.test(tic)) return `${tic[0].toUpperCase()}${tic.slice(1)} ${text}`;
  const first = text.match(/^[A-Za-z]+/)?.[0] ?? "";
  const common = first !== "I" && FUNCTION_WORDS.has(first.toLowerCase()) || new RegExp(`\\b${first.toLowerCase()}\\b`).test(cardWords(card));
  const out = `${tic} ${common ? text[0].toLowerCase() + text.slice(1) : text}`;
  return out[0].toUpperCase() + out.slice(1);
}

const FUNCTION_WORDS = new Set("my the a an no it on in at people someone there this that".split(" "));
const wordsCache = new WeakMap<CharacterCard, string>();
function cardWords(card: CharacterCard): string {
  let w = wordsCache.get(card);
  if (w === undefined) wordsCache.set(card, (w = [card.description, card.lore ?? "", ...card.facts.flatMap((f) => [f.text, ...f.say]), ...Object.values(card.lines ?? {}).flat(), ...card.greetings].join(" ")));
  return w;
}

/** The fact as the NPC would say it: first person, now and then with one of the card's tics or forms of address. */
export function restateFact(card: CharacterCard, fact: string, rng: Chooser): string {
  let text = firstPersonFact(card, fact.trim());
  const style = card.speakingStyle;
  const tics = (style.tics ?? []).filter((t) => /[,.!?]$/.test(t));
  if (tics.length > 0 && rng.chance(0.5)) text = withTic(card, rng.pick(tics), text);
  const address = style.address ?? [];
  if (address.length > 0 && rng.chance(0.3)) text = text.replace(/[.!?]$/, "") + `, ${rng.pick(address)}.`;
  return text;
}
