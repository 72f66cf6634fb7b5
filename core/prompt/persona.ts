import type { CharacterCard, Fact, Good } from "../character/schema.ts";
import { editDistance, swapped } from "../scene/suggest.ts";

// Persona header from a character card: a fixed core (who, voice, what they may do) and a short
// list of facts picked for the player's line. Server and data engine both call these.

/**
 * Persona core: name, role, description, voice and allowed actions. Kept short (~120 tokens):
 * the character's own adapter carries the rest of the voice; the personality and tics stay in
 * the card for authors and the data engine.
 */
export function personaCore(card: CharacterCard): string {
  const acts: string[] = [];
  if (card.actions.emotes.length > 0) acts.push(`emote ${card.actions.emotes.join("/")}`);
  if (card.actions.give.length > 0) acts.push(`give ${card.actions.give.join("/")}`);
  if (card.actions.walkTo.length > 0) acts.push(`walk_to ${card.actions.walkTo.join("/")}`);
  return `You are ${card.name}, the ${card.role}. ${card.description} Voice: ${card.speakingStyle.summary}` +
    (acts.length > 0 ? ` Actions: ${acts.join("; ")}.` : "");
}

/** "Sells (coins): horseshoe 4, bag of nails [nails] 1 per bag, ..." ([id] when it differs from the name). */
export function goodsLine(goods: Good[]): string {
  const item = (g: Good) => {
    const id = g.name.toLowerCase().replace(/ /g, "_") === g.item ? "" : ` [${g.item}]`;
    return `${g.name}${id} ${g.price}${g.unit === "each" ? "" : " " + g.unit}`;
  };
  return `Sells (coins): ${goods.map(item).join(", ")}.`;
}

const STOP = new Set("a an the is are was of to in on at for and or you your me my i do does did what who how where when why can it its that this with from about tell".split(" "));

export function keywords(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    if (STOP.has(w) || w.length < 2) continue;
    out.add(w.length > 4 && w.endsWith("s") ? w.slice(0, -1) : w);
  }
  return out;
}

/** Words of trade ("buy", "price", "coins"): the goods line answers a line that has them. */
export const TRADE_WORDS = keywords("buy sell sells price prices cost costs coins much cheap goods wares trade haggle deal offer pay");

// Words a player uses for a whole topic rather than for one fact: "any news?" names no rumour,
// "got any work?" no quest. A fact of the topic counts them as its own keywords.
const TOPIC_WORDS: Partial<Record<Fact["topic"], Set<string>>> = {
  rumour: keywords("news rumour rumours rumor rumors gossip gossiping heard hear hearing saying talk talking whisper whispers word happening happened lately latest going around story stories strange new"),
  quest: keywords("work job jobs help helping hand task tasks errand errands quest quests favour favor need needs earn chore chores assist anything useful"),
};

type Cand = { text: string; keys: Set<string>; order: number; fact?: Fact };

// Fact keyword sets per card and alias table; cards are immutable once parsed.
const candCache = new WeakMap<CharacterCard, Map<string, Cand[]>>();

function candidates(card: CharacterCard, aliases: Record<string, string>): Cand[] {
  let perCard = candCache.get(card);
  if (!perCard) candCache.set(card, (perCard = new Map()));
  const key = JSON.stringify(aliases);
  let cands = perCard.get(key);
  if (!cands) {
    cands = card.facts.map((f: Fact, i) => ({
      text: f.text,
      keys: new Set([...keywords([f.text, f.about ?? "", f.about ? aliases[f.about] ?? "" : "", ...f.ask].join(" ")), ...(TOPIC_WORDS[f.topic] ?? [])]),
      order: i + 1,
      fact: f,
    }));
    if (card.goods.length > 0) {
      cands.unshift({ text: goodsLine(card.goods), keys: new Set([...TRADE_WORDS, ...keywords(card.goods.map((g) => `${g.name} ${g.item}`).join(" "))]), order: 0 });
    }
    perCard.set(key, cands);
  }
  return cands;
}

/**
 * The line's keywords with a typo mended where it is plain: a word of 6 letters or more that no
 * fact line has, one letter or one swap away from exactly one word of 6 or more that one has
 * ("who is in cahrge here?" finds the council's fact). Shorter words are left: "still" is not "stall".
 */
function correctTypos(query: Set<string>, cands: Cand[]): Set<string> {
  let known = knownWords.get(cands);
  if (!known) knownWords.set(cands, (known = vocabularyOf(cands)));
  const out = new Set<string>();
  for (const w of query) {
    if (known.all.has(w) || w.length < 6) { out.add(w); continue; }
    const near = known.long.filter((k) => Math.abs(k.length - w.length) <= 1 && (swapped(w, k) || editDistance(w, k) === 1));
    out.add(near.length === 1 ? near[0] : w);
  }
  return out;
}

// The words of a card's candidate lines (cached with them), and those of 6 letters or more.
const knownWords = new WeakMap<Cand[], { all: Set<string>; long: string[] }>();
function vocabularyOf(cands: Cand[]): { all: Set<string>; long: string[] } {
  const all = new Set(cands.flatMap((c) => [...c.keys]));
  return { all, long: [...all].filter((k) => k.length >= 6) };
}

/**
 * Up to `k` persona fact lines for the player's line: facts sharing the most keywords with it
 * first (ties in card order), then the card's first facts to fill. The goods line counts as a
 * fact about trade words and the goods' names. `aliases` adds words for the ids facts are
 * `about` (e.g. { brom: "blacksmith smith" }, from the scene's NPC roles).
 */
export function selectFacts(card: CharacterCard, say: string, k = 4, aliases: Record<string, string> = {}): string[] {
  return rankFacts(card, say, aliases).slice(0, k).map((s) => s.text);
}

/** A candidate fact line for a player's line: its text, the card fact (none for the goods line), the line's keywords it shares and how many. */
export interface RankedFact {
  text: string;
  fact?: Fact;
  score: number;
  matched: string[];
  /** Of `matched`, the words a player uses for the fact's whole topic ("news" for a rumour). */
  topical: string[];
}

/** Every candidate line of `card` for `say`, as `selectFacts` orders them (most shared keywords first, ties in card order, the goods line first among equals). */
export function rankFacts(card: CharacterCard, say: string, aliases: Record<string, string> = {}): RankedFact[] {
  const cands = candidates(card, aliases);
  const query = correctTypos(keywords(say), cands);
  const scored = cands.map((c) => {
    const matched = [...query].filter((w) => c.keys.has(w));
    return { c, matched, score: matched.length };
  });
  scored.sort((a, b) => b.score - a.score || a.c.order - b.c.order);
  return scored.map(({ c, score, matched }) => {
    const topic = c.fact ? TOPIC_WORDS[c.fact.topic] : undefined;
    return { text: c.text, ...(c.fact ? { fact: c.fact } : {}), score, matched, topical: topic ? matched.filter((w) => topic.has(w)) : [] };
  });
}
