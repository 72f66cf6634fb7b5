import type { CharacterCard, Good } from "../character/schema.ts";
import { cardLine, inMoodOf, listPhrase, numberForms, NUMBER_WORDS } from "./card-lines.ts";
import { parseReply } from "./reply.ts";
import type { ReplyCheck } from "./reply-check.ts";

// The trade check: what the NPC says about its goods agrees with its card. The prompt's goods line
// holds every price, and the small model still quotes the dagger's price for the bag of nails,
// hands over a wool cloak for leather boots, or answers "what have you got?" with the weather.
// A trade line is read here (a good named in it, and what the player wants: its price, to buy it,
// to pay an offered sum for it, or the list of goods), the answer worked out from the card (the
// haggling rule is the data engine's, so the model was trained on it), and the reply checked: the
// price said, the good handed over with [give:…] (and none of its other goods), the sum accepted or countered as the rule says,
// goods of the card named. One that disagrees is written again (the server's `loreRetries`); when
// none agrees, the card's own line for that situation is said with the right numbers.

/** What a trade line asks for. */
export type TradeAsk =
  | { kind: "price"; good: Good }
  | { kind: "buy"; good: Good }
  | { kind: "haggle"; good: Good; offer: number }
  | { kind: "goods" };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const SERVING = /^(?:bag|mug|bowl|slice|loaf|coil|cup|pot|jar|bottle|pair|piece|bolt|sack|bunch|skein)\s+of\s+/;

/** The ways a player names a good, longest first: "bag of nails", "nails"; "leather boots", "boots"; "mug of dark ale", "dark ale"; "sharpen" for the sharpening. */
function namesOfGood(g: Good): string[] {
  const name = g.name.toLowerCase();
  const out = new Set([name, g.item.replace(/_/g, " ")]);
  const bare = name.replace(SERVING, "");
  out.add(bare);
  // The last word names a good ("boots"), not a service ("room for the night" is no "night").
  const last = bare.split(/\s+/).at(-1)!;
  if (last.length >= 3 && !g.service) out.add(last);
  // A service by its verb: "sharpening" is asked for as "sharpen", "mending" as "mend" (and "fix", "repair", "broken").
  if (g.service && /ing$/.test(g.item) && g.item.length > 6) {
    const verb = g.item.slice(0, -3);
    out.add(verb);
    for (const w of SERVICE_WORDS[verb] ?? []) out.add(w);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

// Other words for the work a service does.
const SERVICE_WORDS: Record<string, string[]> = {
  mend: ["repair", "repairs", "fix", "fixing", "broken", "cracked", "mended"],
  sharpen: ["hone", "dull", "blunt", "sharpened"],
};

// "Do you make daggers?", "got any rope?": a good asked after is answered with its price.
const STOCK = /(?:^|[,.;:!?]\s*)(?:(?:so|and|hey|oi|well|um|ok|okay|then|say|smith|friend)[\s,]+)*(?:(?:do|does|d'?you)\s+(?:you|u|ya|he|she)?\s*(?:sell|make|have|stock|carry|keep|forge|brew|bake|cook|serve|pour)\b|(?:got|have\s+you\s+got|any)\s+(?:any\s+)?(?!coins?\b)\w+(?:\s+\w+)?\s*(?:for\s+sale|in\s+stock|left)?\s*\?\s*$)/;

// "Can you fix my axe?", "I need my blade sharpened": a service asked for is asked its price.
const SERVICE_ASK = /\b(?:can|could|would|will)\s+(?:you|u|ya)\b|\bplease\b(?!.*\b(?:how|what|why|where|when|who|which)\b)(?<!\b(?:how|what|why|where|when|who|which)\b.*)|\bi\s+need\b|\bdo\s+(?:you|u)\s+(?:do|offer)\b|\bneeds?\s+(?:a\s+)?(?:mending|fixing|sharpening|repair)|\brepairs?\s+on\b|\bcould\s+use\s+(?:a\s+)?(?:repair|mending|fixing|sharpening)|\bmy\s+\w+(?:\s+\w+)?\s+(?:is|s|'s)\s+(?:dull|blunt|broken|cracked|bent|chipped|notched|damaged)\b/;

/**
 * The good the line names (the longest name wins; "ale" alone is the mug of ale, not the dark ale),
 * or undefined. A service named wins over a good ("how much to mend a dagger?" asks the mending).
 */
export function goodNamed(card: CharacterCard, say: string): Good | undefined {
  const line = say.toLowerCase();
  let best: { good: Good; len: number; exact: boolean } | undefined;
  for (const g of card.goods) {
    for (const n of namesOfGood(g)) {
      if (!new RegExp(`\\b${escape(n)}(?:e?s)?\\b`).test(line)) continue;
      const exact = n === g.item.replace(/_/g, " ") || n === g.name.toLowerCase();
      const better = !best || (!!g.service !== !!best.good.service ? !!g.service : n.length > best.len || (n.length === best.len && exact && !best.exact));
      if (better) best = { good: g, len: n.length, exact };
      break;
    }
  }
  return best?.good;
}

const PRICE = /\b(?:how\s+much|worth|(?:are|r)\s+(?:you|u)\s+asking|price|prices|priced|cost|costs|expensive|cheap|pricey|costly|going\s+(?:rate|for)|sell(?:ing)?\s+for|go\s+for|set\s+me\s+back|what\s+(?:do|would)\s+(?:you|u)\s+(?:want|ask|charge)|how\s+many\s+coins|coins?\s+for\s+(?:a|an|the|one)\b)/;
const BUY = /\b(?:buy|purchase|i'?ll\s+take|i\s+will\s+take|let\s+me\s+have|i'?d\s+like|i\s+would\s+like|i\s+want|give\s+me|can\s+i\s+(?:get|have)|could\s+i\s+(?:get|have)|may\s+i\s+(?:get|have)|sell\s+me|my\s+money\s+for)\b|^(?:\w+[,!]?\s+)?(?:one|a|an|two|some)\s+[^?]*\bplease\b/;
const HAGGLE = /\b(?:take|give\s+you|offer|how\s+about|deal|final|settle|accept|knock|lower|discount|pay\s+you|only\s+(?:have|got)|will\s+that\s+(?:buy|do|cover)|enough)\b/;
const PAY = /\b(?:my\s+(?:coin|coins|money)\s+for|here(?:'s|s|\s+is)\s+(?:my\s+)?(?:coin|coins|money))\b/;
const GOODS = /\b(?:what\s+(?:do|have|can)\s+(?:you|u|i)\s+(?:sell|selling|got|have|buy|offer)|what\s+(?:are|r)\s+(?:you|u)\s+selling|what(?:'s|s|\s+is)\s+for\s+sale|anything\s+(?:for\s+sale|good|to\s+buy)|got\s+anything|(?:your|ur)\s+(?:wares|goods|stock)|what\s+(?:have\s+)?(?:you|u)\s+got|what\s+goods|what\s+(?:items|things|goods|wares)\s+do\s+(?:you|u)\s+(?:trade|deal)\s+in|what\s+(?:wares|goods|items)\b|what(?:'s|s|\s+is)\s+in\s+(?:your|ur|the)\s+(?:shop|stall|store|cart|pack|basket|stock)|(?:sell|selling|have|got)\s+anything|let\s+me\s+see\s+(?:what|your)|(?:tell|show)\s+me\s+what\s+(?:you|u)(?:'ve|\s+have)?\s+(?:sell|have|got|offer))\b/;

/** An offered sum: digits, or a number word before "coin(s)" ("two coins"). */
function offerIn(say: string): number | undefined {
  const digits = say.match(/\b(\d{1,6})\b/);
  if (digits) return Number(digits[1]);
  const word = say.toLowerCase().match(new RegExp(`\\b(${NUMBER_WORDS.join("|")})\\s+coins?\\b`));
  return word ? NUMBER_WORDS.indexOf(word[1]) : undefined;
}

/** How many of the card's goods `text` names. */
function goodsNamed(card: CharacterCard, text: string): number {
  const line = text.toLowerCase();
  return card.goods.filter((g) => namesOfGood(g).some((n) => new RegExp(`\\b${escape(n)}(?:e?s)?\\b`).test(line))).length;
}

/** What the trade line asks, or null for a line that is no trade line (or names a good the NPC does not sell). */
export function readTradeLine(card: CharacterCard, say: string): TradeAsk | null {
  if (card.goods.length === 0) return null;
  const line = say.toLowerCase();
  const good = goodNamed(card, line);
  if (good === undefined) return GOODS.test(line) ? { kind: "goods" } : null;
  const offer = offerIn(line);
  if (offer !== undefined && (HAGGLE.test(line) || new RegExp(`\\b${offer}\\s+(?:coins?\\s+)?for\\b`).test(line)) && !good.service) return { kind: "haggle", good, offer };
  const sells = !good.service && card.actions.give.includes(good.item);
  if (PAY.test(line) && sells) return { kind: "buy", good };
  // A stock question opens its clause ("do you make daggers?"; not "how do you make the salve?") and is not about a service.
  if (PRICE.test(line) || (good.service ? SERVICE_ASK.test(line) : STOCK.test(line))) return { kind: "price", good };
  if (BUY.test(line) && sells) return { kind: "buy", good };
  return null;
}

/**
 * The NPC's answer to `offer` coins for `good`: accepted at or above its floor; below that, when it
 * has room to haggle (a floor under the price) and the offer is at least 0.6 of the floor, a
 * counter halfway from the floor to the price (the floor when halfway rounds up to the price);
 * else the price stands.
 */
export function haggleAnswer(good: Good, offer: number): { kind: "accept" | "counter" | "refuse"; coins: number } {
  const floor = good.floor ?? good.price;
  if (offer >= floor) return { kind: "accept", coins: offer };
  if (offer >= floor * 0.6 && floor < good.price) {
    const half = Math.ceil((floor + good.price) / 2);
    return { kind: "counter", coins: half === good.price ? floor : half };
  }
  return { kind: "refuse", coins: good.price };
}

const saysNumber = (text: string, n: number) => numberForms(n).some((f) => new RegExp(`(?<![\\w.])${f}(?![\\w])`, "i").test(text));

/** The goods a fallback list names: the first four the NPC hands over, else the first four. */
function listOfGoods(card: CharacterCard): string {
  const goods = card.goods.filter((g) => !g.service);
  return listPhrase((goods.length > 0 ? goods : card.goods).slice(0, 4).map((g) => g.name));
}

/**
 * The trade check for a reply to `say` (core/prompt/reply-check.ts, kind "lore": the card's goods
 * are its facts too), or null when the line is no trade line. `pick` chooses which of the card's
 * lines is said when no reply agrees.
 */
export function tradeCheckFor(card: CharacterCard, say: string, pick = 0): ReplyCheck | null {
  const ask = readTradeLine(card, say);
  if (ask === null) return null;
  const inMood = (least: string, text: string) => inMoodOf(least, text, card.defaultMood);
  if (ask.kind === "goods") {
    const names = card.goods.map((g) => g.name);
    // A list names two goods at least (one when the card hands over only one): "a tonic" in a quest line is no list.
    const need = Math.max(1, Math.min(2, card.goods.filter((g) => !g.service).length));
    return {
      kind: "lore",
      agrees: (reply) => (goodsNamed(card, parseReply(reply).text) >= need ? [] : [`names fewer than ${need} of ${card.name}'s goods (${names.join(", ")})`]),
      voice: (least) => inMood(least, cardLine(card, "goods_list", { list: listOfGoods(card) }, pick)),
    };
  }
  const g = ask.good;
  if (ask.kind === "price") {
    return {
      kind: "lore",
      agrees: (reply) => (saysNumber(parseReply(reply).text, g.price) ? [] : [`does not say the ${g.name}'s price, ${g.price}`]),
      // A repair is answered with the card's repair line ("Leave it on the anvil. 10 coins."), any other good or service with its price line.
      voice: (least) => inMood(least, g.service && /sharpen|mend|repair/.test(g.item) && card.lines.repair?.length
        ? cardLine(card, "repair", { price: g.price }, pick)
        : cardLine(card, "price", { item: g.name, price: g.price, unit: g.unit === "each" ? "each" : g.unit }, pick)),
    };
  }
  if (ask.kind === "buy") {
    return {
      kind: "lore",
      agrees: (reply) => {
        // The good itself, and none of the NPC's other goods (a give the card does not allow is dropped anyway).
        const gives = parseReply(reply).actions.filter((a) => a.kind === "give").map((a) => a.arg);
        const wrong = gives.filter((x) => x !== g.item && card.actions.give.includes(x));
        return gives.includes(g.item) && wrong.length === 0 ? [] : [`hands over ${gives.length ? gives.join(", ") : "nothing"}, not the ${g.name}`];
      },
      voice: (least) => `${inMood(least, cardLine(card, "sold", { item: g.name }, pick))} [give:${g.item}]`,
    };
  }
  const answer = haggleAnswer(g, ask.offer);
  const key = answer.kind === "accept" ? "haggle_accept" : answer.kind === "counter" ? "haggle_counter" : "haggle_refuse";
  return {
    kind: "lore",
    agrees: (reply) => (saysNumber(parseReply(reply).text, answer.coins) ? [] : [`does not say ${answer.coins} (${answer.kind} ${ask.offer} for the ${g.name})`]),
    voice: (least) => inMood(least, cardLine(card, key, { offer: ask.offer, counter: answer.coins, price: g.price, item: g.name }, pick)),
  };
}
