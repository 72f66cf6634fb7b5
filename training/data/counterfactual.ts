import { writeFileSync } from "node:fs";
import type { CharacterCard, Fact } from "../../core/character/schema.ts";
import { Rng } from "./rng.ts";
import { makeScenario, type Sample } from "./sample.ts";
import { heldOutFacts } from "./situations.ts";
import type { World } from "./world.ts";

// Counterfactual grounding samples. In the main corpus a fact's answer is always one of the card's
// own `say` lines, so a model can answer trained facts from memory and never learns to read the
// persona facts in its prompt — and then has nothing to go on for a fact it was never asked about.
// Here each sample uses a copy of the card whose key terms (a fact's `expect` words found in both
// the fact and its answer, and every price) are swapped for random ones, consistently in the fact
// line of the prompt and in the reply. Memory cannot produce "Ashbrook" or "37 coins"; only the
// prompt can, so these samples reward copying from it. Held-out facts are removed from the copy
// (never shown, never asked), so the held-out split stays unseen.

const NOUNS = [
  "copper", "linen", "barley", "amber", "tallow", "oak", "flint", "wool", "honey", "rye", "slate", "cedar",
  "pewter", "hemp", "clay", "salt", "resin", "willow", "tin", "peat", "ash", "millet", "beeswax", "juniper",
  "walnut", "mint", "lard", "straw", "cider", "thistle", "birch", "quartz", "hops", "nettle", "sorrel", "elm",
];
const SYLLABLES = ["ash", "bri", "cal", "dun", "el", "fen", "gar", "hol", "is", "jor", "kel", "lin", "mor", "nor", "os",
  "pel", "quin", "ros", "sel", "tam", "ul", "var", "wen", "yor", "brook", "ford", "wick", "dale", "mere", "ton", "by", "stead"];
const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
  "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"];
const TENS: Record<string, number> = { twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The term as a whole word, allowing a plural/verb ending ("haggle" matches "Haggles"). */
const termPattern = (t: string) => new RegExp(`\\b${escape(t)}(?:s|es|ed|ing)?\\b`, "gi");

function numberValue(t: string): number | undefined {
  if (/^\d+$/.test(t)) return Number(t);
  const w = t.toLowerCase();
  const i = NUMBER_WORDS.indexOf(w);
  return i >= 0 ? i : TENS[w];
}

function numberWord(n: number): string | undefined {
  if (n < NUMBER_WORDS.length) return NUMBER_WORDS[n];
  const tens = Object.entries(TENS).find(([, v]) => v === n);
  return tens?.[0];
}

/** A made-up proper name of `words` words ("Kelbrook", "Ostam Dale"). */
export function properName(rng: Rng, words: number): string {
  const word = () => {
    const s = rng.pick(SYLLABLES) + rng.pick(SYLLABLES);
    return s[0].toUpperCase() + s.slice(1);
  };
  return Array.from({ length: words }, word).join(" ");
}

/** Same capitalisation as `like` (first letter). */
const caseLike = (s: string, like: string) => (like[0] === like[0].toUpperCase() ? s[0].toUpperCase() + s.slice(1) : s.toLowerCase());

/** Replacement pairs [pattern, replacement] for one key term, or undefined if the term is not swappable. */
function swapFor(term: string, rng: Rng, taken: Set<string>): { from: RegExp; to: (m: string) => string; value: string }[] | undefined {
  const n = numberValue(term);
  if (n !== undefined) {
    let m = n;
    while (m === n) m = rng.int(2, 60);
    const word = numberWord(m);
    // Both spellings of the old number go to the new one: digits to digits, words to a word (or digits).
    const forms = [String(n), numberWord(n)].filter((x): x is string => x !== undefined);
    return forms.map((f) => ({ from: new RegExp(`\\b${escape(f)}\\b`, "gi"), to: (mm: string) => (/^\d/.test(f) ? String(m) : caseLike(word ?? String(m), mm)), value: String(m) }));
  }
  if (/^[A-Z]/.test(term)) {
    const name = properName(rng, term.split(" ").length);
    // A trailing plural ("Thursdays") keeps its ending.
    return [{ from: new RegExp(`\\b${escape(term)}(?=s?\\b)`, "gi"), to: () => name, value: name }];
  }
  if (/^[a-z]+$/.test(term) && term.length >= 3) {
    // A noun the card itself never uses, so the swapped value cannot be recalled from the real card.
    const free = NOUNS.filter((w) => w !== term && !taken.has(w));
    const noun = rng.pick(free.length > 0 ? free : NOUNS);
    return [{ from: termPattern(term), to: (m) => caseLike(noun, m), value: noun }];
  }
  return undefined;
}

/** A fact with one key term swapped in its text, questions and the answers that name it. */
function swapFact(f: Fact, rng: Rng, taken: Set<string>): Fact | undefined {
  for (const term of rng.shuffle([...f.expect])) {
    if (!termPattern(term).test(f.text)) continue;
    const swaps = swapFor(term, rng, taken);
    if (!swaps) continue;
    const names = (s: string) => swaps.some((p) => new RegExp(p.from.source, "i").test(s));
    const says = f.say.filter(names);
    if (says.length === 0 || !names(f.text)) continue;
    const apply = (s: string) => swaps.reduce((acc, p) => acc.replace(p.from, p.to), s);
    return { ...f, text: apply(f.text), ask: f.ask.map(apply), say: says.map(apply), expect: [swaps[0].value] };
  }
  return undefined;
}

const wordIn = (text: string, w: string) => new RegExp(`\\b${escape(w)}\\b`, "i").test(text);

/** A copy of the card with swapped facts and prices; held-out facts left out. */
export function counterfactualCard(card: CharacterCard, rng: Rng): CharacterCard {
  const held = heldOutFacts(card);
  const taken = new Set(JSON.stringify(card).toLowerCase().match(/[a-z]+/g));
  const facts: Fact[] = [];
  for (const f of card.facts) {
    if (held.has(f.text)) continue;
    facts.push(swapFact(f, rng, taken) ?? f);
  }
  const goods = card.goods.map((g) => {
    const price = rng.int(1, 90);
    return { ...g, price, floor: g.floor === undefined ? undefined : Math.max(1, Math.round(price * (0.7 + rng.float() * 0.2))) };
  });
  return { ...card, facts, goods };
}

const INTENTS: Record<string, number> = { fact: 6, villager: 2, price: 3, buy: 1, haggle: 1, goods_list: 1, rumour: 1, quest: 1 };

/**
 * `count` counterfactual training samples (split "train"). Each draws a fresh card copy for a
 * random NPC and one of INTENTS; a fact sample is kept only if its reply names the swapped value.
 */
export function counterfactualSamples(world: World, count: number, seed: number, log: (line: string) => void = () => {}, phraseGrammar = 0, restateFacts = 0): Sample[] {
  const rng = new Rng(`counterfactual|${seed}`);
  const out: Sample[] = [];
  let draws = 0;
  const t0 = Date.now();
  while (out.length < count) {
    draws++;
    if (draws > count * 20) throw new Error(`counterfactual: only ${out.length} of ${count} samples after ${draws} draws`);
    const npcIndex = rng.int(0, world.npcs.length - 1);
    const card = world.cards.get(world.npcs[npcIndex].character)!;
    const cf = counterfactualCard(card, rng);
    const cards = new Map(world.cards);
    cards.set(card.id, cf);
    const intent = rng.weighted(INTENTS);
    const sc = makeScenario({ ...world, cards }, rng, "train", `cf-${out.length}`, { npcIndex, intent, phraseGrammar, restateFacts });
    if (!sc) continue;
    const s = sc.sample;
    // The reply must carry something only the prompt knows: a swapped fact value or a price.
    // (A rumour or quest fact the retrieval did not put in the prompt would teach inventing one.)
    const persona = s.prompt.slice(0, s.prompt.indexOf("<|", 3));
    const expect = sc.situation.checks.contains_any ?? [];
    const swapped = cf.facts.some((f) => f.expect.length === 1 && expect.includes(f.expect[0]) &&
      wordIn(s.completion, f.expect[0]) && wordIn(persona, f.expect[0]));
    const numbers = s.completion.replace(/<\|end\|>/g, "").match(/\d+/g) ?? [];
    const priced = ["price", "buy", "haggle", "goods_list"].includes(s.intent) && numbers.some((n) => wordIn(persona, n));
    if (!swapped && !priced) continue;
    out.push({ ...s, template: `cf/${s.template}` });
    if (out.length % 5000 === 0) {
      const el = (Date.now() - t0) / 1000;
      log(`counterfactual ${out.length}/${count} (${draws} draws) ${el.toFixed(0)} s, ETA ${((el / out.length) * (count - out.length)).toFixed(0)} s`);
    }
  }
  return out;
}

export function writeJsonl(path: string, samples: Sample[]): void {
  writeFileSync(path, samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
}
