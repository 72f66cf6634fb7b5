import type { CharacterCard, Fact } from "../character/schema.ts";
import { asksAboutSight } from "../vision/sight.ts";
import { keywords, rankFacts, TRADE_WORDS, type RankedFact } from "./persona.ts";
import { firstPersonFact } from "./restate.ts";
import type { ReplyCheck } from "./reply-check.ts";
import { cardLine, inMoodOf } from "./card-lines.ts";
import { tradeCheckFor } from "./trade-check.ts";

// The lore check: a question a card fact answers gets a reply that says it. Retrieval
// (persona.ts) puts the fact that answers a player's question first among the prompt's fact lines,
// and the small model still answers from memory of other lines more often than not ("where does
// your silk come from?" → a list of goods; training/README.md has the figures). Like the sight
// check (core/vision/agree.ts), the reply is checked against that fact, written again when it does
// not say it, and when no try does, the NPC says the fact in the card's own words (one of the
// fact's `say` lines, else the fact in the first person) in the closest reply's mood. A reply
// agrees by one of the fact's `expect` words, or, without them, by the fact's names and numbers
// the question does not already hold.
//
// Which lines are checked: questions (a clause that opens like one, or ends in "?") that are not
// requests to act ("can you walk to the well?"), nor for the way somewhere ("where's the well?")
// or about the surroundings ("what's near you?": the nearby lines answer those), nor about prices
// (the goods line answers those), asked when no danger is near, whose best fact (askedFacts) is in
// the prompt and is not one of many unrelated facts tied on one common word. "Who are you?" and
// "what's your trade?" are checked against the card's name and role. Trade lines (a price, a sale,
// an offer, the list of goods) are checked by trade-check.ts under the same knob.

const QUESTION_OPENING = /^(?:(?:so|and|but|well|ok|okay|then|hey|oh|um|hmm|now)[\s,]+)?(?:what|whats|what's|who|whos|who's|whose|whom|where|wheres|where's|when|why|how|hows|how's|which|is|isn't|are|aren't|was|were|do|does|did|don't|doesn't|can|could|will|would|should|have|has|had|any|anything|anyone|tell me|got any)\b/;

/**
 * Does the line ask something: a clause that opens like a question ("i was wondering, where do you
 * get your iron"), or one that ends in "?" and is not the player's own news ("my home burned down?")?
 * "What a pathetic guard" is no question.
 */
export function asksSomething(say: string): boolean {
  const clauses = say.toLowerCase().split(/(?<=[,.;:!?])\s*/).map((c) => c.trim()).filter(Boolean);
  return TOPIC_REQUEST.test(say) || NEWS.test(say) || clauses.some((c) => !/^what\s+an?\b/.test(c) && (QUESTION_OPENING.test(c) || (c.endsWith("?") && !/^(?:my|i|i'm|im|we|we're|our)\b/.test(c))));
}

// Asking for a topic without a question: "heard any rumours", "I'm looking for work", "give me the
// latest", "need any help", "got a job for me".
const TOPIC_REQUEST = new RegExp([
  "\\b(?:heard|hear|got|know)\\s+(?:any|some)\\s+(?:rumou?rs?|gossip|news|tales?|stories|whispers?)\\b", "\\bgive\\s+me\\s+the\\s+(?:latest|news|gossip)\\b",
  "\\btell\\s+me\\s+(?:something|anything)\\s+(?:interesting|new)\\b", "\\bgive\\s+me\\s+(?:some|any|the)\\s+(?:gossip|news|rumou?rs?)\\b",
  "\\b(?:i'm|im|i\\s+am)\\s+looking\\s+for\\s+(?:work|a\\s+job|jobs|errands?|tasks?)\\b", "\\b(?:i\\s+)?(?:need|want)\\s+(?:some\\s+)?(?:work|a\\s+job)\\b",
  "\\bneed\\s+(?:any|a)\\s+(?:help|hand)\\b", "\\bgot\\s+(?:a|any)\\s+(?:job|jobs|work|errands?|tasks?)\\b", "\\bgot\\s+errands\\b",
  "\\banything\\s+i\\s+(?:can|could)\\s+do\\s+for\\s+(?:you|u)\\b",
].join("|"), "i");

// Verbs of telling: "can you tell me who founded the village?" still asks for a fact.
const TELLING = "tell|say|explain|describe|remind|recommend|suggest|share|name";
// Verbs of thinking: "what would you think of Brom?" asks an opinion, not a deed.
const THINKING = "think|know|reckon|guess|feel|believe|expect|mean|suppose|make\\s+of";
const REQUEST = new RegExp(`\\b(?:can|could|would|will|wont|won't|would|please)\\s+(?:you|u|ya|ye)\\s+(?!(?:${TELLING}|${THINKING})\\b)[a-z]+|^\\s*please\\b(?!\\s+(?:${TELLING})\\b)|\\b(?:may|can|could)\\s+i\\s+(?:get|have|buy|purchase|take|borrow)\\b`);
const DO_THIS = /(?:^|[,.;:!?]\s*)(?:please\s+|now\s+|ok\s+|okay\s+)?(?:walk|go|come|follow|show|give|hand|point|wave|bow|sit|dance|lead|take|bring|fetch|turn|jump|nod|stop|wait|run|meet|hug|kneel|salute|smile|laugh|sing|sell|buy|fix|mend|repair|sharpen|make|forge)\b/;
const THE_WAY = new RegExp([
  "\\bwhere(?:\\s+exactly)?\\s*(?:is|are|'s|s)\\b(?!\\s+(?:you|u|ya)\\b)", "\\bwheres\\b", "\\bwhereabouts\\b", "\\bwhere\\b.*\\b(?:is|are)\\s*[?!.]*$",
  "\\bknow\\s+\\w+\\s+(?:the|a|an)\\s+.+\\s(?:is|are)\\s*[?!.]*$", // "do you know where (or wjere) the market is"
  "\\b(?:do|can|could|should|would)\\s+i\\s+(?:go|get|find|reach|head)\\b", "\\bhow\\s+to\\s+(?:find|get|go|reach)\\b",
  "\\b(?:which|wich|what)\\s+(?:way|road|path|direction)\\b", "\\bleads?\\s+to\\b", "\\bfar\\b", "\\blong\\s+(?:a\\s+)?walk\\b", "\\b(?:i'?m|im|i\\s+am)\\s+(?:looking\\s+for|trying\\s+to\\s+find|searching\\s+for)\\s+(?:the|a|an)\\s+(?!(?:job|work|task|errand|quest|way\\s+to\\s+help)\\b)", "\\b(?:near(?:by)?|close\\s+by)\\s*[?!.]*$", "\\bdirections?\\b", "\\bthe\\s+way\\s+to\\b",
  "\\bshow\\s+me\\b", "\\blead\\s+me\\b", "\\btake\\s+me\\b", "\\bpoint\\s+(?:me|us)\\s+(?:to|toward|towards|in\\s+the\\s+direction\\s+of)\\b",
].join("|"));

/** Does the line ask the way somewhere ("where's the well?", "is the market far?", "show me the way to the gate")? */
export function asksTheWay(say: string): boolean {
  return THE_WAY.test(say.toLowerCase());
}

/** Does the line ask the NPC to act ("can you walk to the well?", "walk with me", "please wave") or for the way somewhere ("where's the well?")? */
export function asksToActOrForTheWay(say: string): boolean {
  const lower = say.toLowerCase();
  return REQUEST.test(lower) || DO_THIS.test(lower) || THE_WAY.test(lower);
}

// "Who are you?", "what's your trade?", "introduce yourself": checked against the card's name and
// role. Matched on the line and on the line with doubled letters collapsed ("intrroduce yoursself").
const WHO_YOU_ARE = new RegExp([
  "\\bwho\\s+(?:are|r|art)\\s+(?:you|u|ya|thee)\\b",
  "\\bwho\\s+(?:might|may|would|could)\\s+(?:you|u)\\s+be\\b",
  "\\bwho\\s+am\\s+i\\s+(?:t|sp)\\w*(?:ing|in'?)\\s+(?:to|with)\\b",
  "\\btel+\\s+me\\s+(?:a\\s+bit\\s+|a\\s+little\\s+|something\\s+|more\\s+)?(?:about|of)\\s+(?:yourself|urself)\\b",
  "\\b(?:how|what)\\s+do\\s+(?:you|u)\\s+(?:spend|do\\s+with)\\s+(?:your|ur)\\s+days\\b", "\\bwhich\\s+(?:line|kind)\\s+of\\s+(?:work|job|trade)\\b",
  "\\bwhat\\s+(?:are|r)\\s+(?:you|u)\\s+exactly\\b", "^\\W*(?:and|so)\\s+(?:you|u)\\s+are\\W*(?:then\\W*)?$", "\\b(?:are|r)\\s+(?:you|u)\\s+(?:from|frm)\\s+(?:around\\s+)?here\\b",
  "\\b(?:your|ur|yer|yor|yur)\\s+name\\b",
  "\\bwhat\\s+(?:are|r)\\s+(?:you|u)\\s+cal+ed\\b",
  "\\bwhat\\s+do\\s+(?:they|folk|people|folks)\\s+cal+\\s+(?:you|u)\\b",
  "\\bintroduce\\s+(?:yourself|yourselve?s?|urself)\\b",
  "\\bwhat\\s+(?:should|shall|do|can|may)\\s+i\\s+cal+\\s+(?:you|u)\\b",
  "\\btel+\\s+me\\s+(?:about|of)\\s+(?:yourself|urself)\\b",
  "\\btel+\\s+me\\s+(?:a\\s+bit\\s+|a\\s+little\\s+|something\\s+|more\\s+)?about\\s+(?:you|u)\\s*(?:[?.!,]|$)",
  "\\bwhat\\s+do\\s+(?:you|u)\\s+do(?:\\s+(?:here|around here|for a living|in (?:the )?(?:village|town)|all day))?\\s*(?:[?.!]|$)",
  "\\bwhat(?:'s|s|\\s+is)\\s+(?:your|ur|yer|yor|yur)\\s+(?:trade|job|work|line of work|role|business|craft|calling|profession|occupation)\\b",
  "\\bwhat\\s+(?:trade|job|work|business|craft)\\s+(?:do|are)\\s+(?:you|u)\\b",
  "\\bwhat\\s+(?:line|kind|sort)\\s+of\\s+(?:work|job|trade|business)\\b",
  "\\bhow\\s+do\\s+(?:you|u)\\s+(?:earn|make)\\s+(?:your|a|ur)\\s+(?:keep|living|coin|bread|money)\\b",
].join("|"));

/** Does the line ask who the NPC is or what it does? */
export function asksWhoYouAre(say: string): boolean {
  const lower = say.toLowerCase();
  return WHO_YOU_ARE.test(lower) || WHO_YOU_ARE.test(lower.replace(/([a-z])\1+/g, "$1"));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Does `text` say `word`: a number as a whole number, a word as itself or with an ending ("haggle" in "haggles", not "cat" in "catch")? */
export function says(text: string, word: string): boolean {
  const w = word.toLowerCase().trim();
  if (w === "") return false;
  const tail = /^\d+$/.test(w) ? "(?![\\d])" : /[a-z]$/.test(w) ? "(?:s|es|ed|d|ing|ings|er|ers|'s)?\\b" : "";
  return new RegExp(`(?<![a-z0-9])${escape(w)}${tail}`, "i").test(text);
}

const COMMON = new Set("the a an and or but of to in on at for with from by is are was were be been has have had it its this that these those there their they them he she his her him i me my you your we our not no".split(" "));

/** The NPC's own names ("Old Wen", "Wen"), which a fact's answer does not need to repeat. */
function ownNames(card: CharacterCard): Set<string> {
  return new Set(card.name.toLowerCase().split(/\s+/));
}

/**
 * The words a reply to `say` must say one of to agree with `fact`: its `expect` words the question
 * does not already say (an echo of "who leads the council?" names the council and tells nothing);
 * when the question says them all, or the fact has none, its names and numbers (capitalised words
 * past the first, digits) the question does not hold, or failing those its longer words the
 * question does not hold.
 */
export function answerWords(card: CharacterCard, fact: Fact, say: string): string[] {
  const fresh = fact.expect.filter((w) => !says(say, w));
  if (fresh.length > 0) return fresh;
  return derivedWords(card, fact, say);
}

function derivedWords(card: CharacterCard, fact: Fact, say: string): string[] {
  const asked = new Set(say.toLowerCase().match(/[a-z0-9]+/g) ?? []);
  const own = ownNames(card);
  const tokens = fact.text.match(/[A-Za-z0-9][A-Za-z0-9'-]*/g) ?? [];
  const fresh = (w: string) => !asked.has(w.toLowerCase()) && !own.has(w.toLowerCase()) && !COMMON.has(w.toLowerCase());
  const named = tokens.filter((w, i) => (/^\d+$/.test(w) || (i > 0 && /^[A-Z]/.test(w))) && fresh(w));
  if (named.length > 0) return [...new Set(named)];
  return [...new Set(tokens.filter((w) => w.length >= 5 && fresh(w)))];
}

/** The fact in the card's words: one of its `say` lines (the `pick`-th, wrapping), else the fact in the first person. */
export function factInVoice(card: CharacterCard, fact: Fact, pick = 0): string {
  const lines = fact.say.filter((l) => !l.includes("{"));
  return lines.length > 0 ? lines[pick % lines.length] : firstPersonFact(card, fact.text);
}

/** The NPC's name and trade in its own words: one of the card's `introduce` lines (slots filled), else "I'm <name>, the <role>." */
export function introductionInVoice(card: CharacterCard, pick = 0): string {
  try {
    return cardLine(card, "introduce", {}, pick);
  } catch {
    return `I'm ${card.name}, the ${card.role}.`; // a line with a slot only the data engine fills
  }
}

// Words that name no fact of their own: the NPC's surroundings, senses, generic verbs, colours.
// A line matching a fact only on these ("did you hear that?", "what's bitcoin worth today?") is not
// asked of that fact.
const WEAK = keywords(
  "near close far around see saw seen look looking thing things stuff one ones spot here there like think opinion good bad nice " +
  "new today now day days time way get got go going come coming make made know knew hear heard say said talk talking well much " +
  "many people folk something everything anything any some someone lately happen happened strange name named call called " +
  "next by as up out off over into onto than then so if too very just all yes oh town doing behind been being have having " +
  "going morning evening afternoon yours mine story stories old met meet meeting trust ever " +
  "oi hi hello ah eh yo uh er friend mate pal buddy sir madam dear love " +
  "could would should might may will shall must " +
  "chance curious curiosity wondering wonder always wanted want ask asking something listen hmm um lol thanks thank please sorry hey ok okay excuse " +
  "red orange yellow green blue purple pink brown black white grey gray",
);
const OFFER_OF_HELP = /\banything\s+i\s+(?:can|could)\s+do\s+(?:for|to\s+help)\s+(?:you|u)\b|\b(?:can|could|may)\s+i\s+(?:help|assist)\s+(?:you|u)\b|\b(?:need|want)\s+(?:some|any)\s*(?:one|body)?\s+(?:with\s+anything|to\s+help)\b/i;
// A fact's whole-topic words that still name it: "any news?" asks for a rumour, "got any work?" a quest.
const TOPIC_NAMES = keywords("news rumour rumours rumor rumors gossip saying whisper whispers tale tales work job jobs task tasks errand errands quest quests chore chores favour favor hand help");

const TRADING = new Set([...TRADE_WORDS, ...keywords("rate asking pricey expensive costly afford charge charging worth selling discount bargain haggling purchase purchasing stock")].filter((w) => w !== "trade"));

const NEWS = new RegExp([
  "\\bwhat(?:'s|s|\\s+is)\\s+(?:new|going\\s+on|happening|the\\s+word)\\b", "\\b(?:anything|something)\\s+(?:\\w+\\s+)?(?:new|happen\\w*|going\\s+on)\\b", "\\bany\\s+happen",
  "\\bheard\\s+(?:any|anything|something|much)\\b", "\\btalk\\s+of\\s+the\\s+(?:town|village)\\b", "\\bthe\\s+latest\\b", "\\b(?:any|got\\s+any)\\s+(?:tales|stories|gossip)\\b",
  "\\b(?:folk|folks|people|villagers|everyone|everybody|they)\\s+(?:\\w+\\s+)?(?:talking|whispering|saying|gossiping)\\b", "\\banything\\s+i\\s+should\\s+know\\b",
].join("|"), "i");
const RUMOUR_WORDS = keywords("new going happening happen happened lately latest word");
// The other words of a news line ("what are the villagers whispering about?").
const NEWS_WORDS = keywords("heard hear talk talking town village villagers folk folks people everyone everybody whispering saying gossiping tales stories strange odd unusual interesting know should days these today");

/** Does the line ask about the NPC's surroundings ("what's near you?", "which one is the gate post?", "what is that yellow thing?")? The nearby lines answer those. */
function asksAboutSurroundings(say: string): boolean {
  return asksAboutSight(say) || /\b(?:which\s+one|point|near\s+(?:you|here|this)|around\s+(?:you|here)|what(?:'s|s|\s+is)\s+(?:that|this))\b/i.test(say);
}

/**
 * The card facts `say` asks about, or none. A line holding one of a fact's own `ask` questions
 * word for word asks about that fact (`directlyAsked`). Otherwise each candidate line (retrieval's, persona.ts) counts
 * the line's words it shares that are not `WEAK` (a topic's names count) and must share at least
 * half of the line's own such words ("how do I fix my laptop?" is not asking about mending
 * blades). Among those sharing the most, one matched by its topic's own names comes first ("any
 * tasks for a traveller?" asks for a quest), then the one sharing more words in all (retrieval's
 * score), then one about the NPC's own thing the player calls theirs ("your stew": "Hilde's stew
 * is …"), then one whose shared words name someone or something it is about (a name in it, its
 * `about` id and that one's alias), then a fact before the goods line, then retrieval's order.
 * A line about prices or buying asks none (the goods line answers it). The best are asked about
 * when the first of them is a fact in the prompt (the first `inPrompt` lines): all of them when
 * they share a topic ("what are people saying?": the rumours), else the first, unless more than
 * two unrelated facts tie ("what's the village like?").
 */
export function askedFacts(card: CharacterCard, say: string, aliases: Record<string, string> = {}, inPrompt = 4): Fact[] {
  const direct = directlyAsked(card, say);
  if (direct !== undefined) return [direct];
  // A line about prices or buying ("what can I buy here?", "how about 3 for the tonic?") is a trade
  // line: the goods line answers it. ("Where did you learn your trade?" asks about a craft.)
  // ("What's the deal with Hilde?" asks about her.)
  if (/\d/.test(say) || /\bgoing\s+(?:for|r\w+)\b/i.test(say) || [...keywords(say.replace(/\bdeal\s+with\b/gi, " "))].some((w) => TRADING.has(w))) return [];
  const ranked: RankedFact[] = rankFacts(card, say, aliases);
  // "What's new?" and "what's going on?" ask for news ("the new iphone" does not): then the words
  // a rumour matches by its topic name it.
  const news = NEWS.test(say);
  const naming = (w: string) => TOPIC_NAMES.has(w) || (news && RUMOUR_WORDS.has(w));
  // "your stew": the words the player puts after "your" ("Hilde's stew" answers it).
  const yours = keywords((say.toLowerCase().match(/\b(?:your|ur|yer)\s+([a-z]+)/g) ?? []).map((m) => m.split(/\s+/)[1]).join(" "));
  // The NPC's own name names none of its facts ("is Old Wen a witch?" asked of Wen).
  const ownWords = ownNames(card);
  const weak = (w: string) => WEAK.has(w) || ownWords.has(w);
  // The line's own words that could name a fact: a fact must share at least half of them.
  const own = [...keywords(say)].filter((w) => !weak(w) || naming(w));
  // A topic asked for and nothing else named: "heard anything lately?", "what's the talk of the
  // town?" (news: the rumours); "anything I can do for you?" (an offer of help: the quests).
  const ofTopic = (topic: string) => card.facts.filter((f) => f.topic === topic);
  const rumours = news && own.every((w) => RUMOUR_WORDS.has(w) || TOPIC_NAMES.has(w) || NEWS_WORDS.has(w)) ? ofTopic("rumour") : [];
  if (rumours.length > 0) return rumours;
  const quests = OFFER_OF_HELP.test(say) && own.every((w) => TOPIC_NAMES.has(w) || NEWS_WORDS.has(w)) ? ofTopic("quest") : [];
  if (quests.length > 0) return quests;
  if (own.length === 0) return [];
  const scored = ranked.map((r, i) => {
    const topical = r.topical.filter(naming);
    const strong = r.matched.filter((w) => !weak(w) || topical.includes(w));
    const names = r.fact ? namesIn(r.fact, aliases) : new Set<string>();
    return {
      r, i,
      strong: strong.length,
      owned: r.fact !== undefined && strong.some((w) => yours.has(w) && ownedBy(card, r.fact!, w)) ? 1 : 0,
      named: strong.some((w) => names.has(w)) ? 1 : 0,
      topical: topical.length > 0 ? 1 : 0,
    };
  }).filter((x) => x.strong > 0 && x.strong * 2 >= own.length);
  if (scored.length === 0) return [];
  // On a tie a fact comes before the goods line: "what goes into your stew?" asks about the stew, not its price.
  const isGoods = (x: { r: RankedFact }) => (x.r.fact === undefined ? 1 : 0);
  scored.sort((a, b) => b.strong - a.strong || b.topical - a.topical || b.r.score - a.r.score || b.owned - a.owned || b.named - a.named || isGoods(a) - isGoods(b) || a.i - b.i);
  const best = scored[0];
  const top = scored.filter((x) => x.strong === best.strong && x.topical === best.topical && x.r.score === best.r.score && x.owned === best.owned && x.named === best.named && isGoods(x) === isGoods(best));
  if (best.r.fact === undefined || best.i >= inPrompt) return [];
  // Asked by its topic ("any news from the road?"), any fact of that topic answers
  // (any of the card's: the model may know one the prompt had no room for).
  const facts = best.topical === 1
    ? ranked.flatMap((r) => (r.fact !== undefined && r.fact.topic === best.r.fact!.topic ? [r.fact] : []))
    : top.flatMap((x) => (x.r.fact !== undefined && x.i < inPrompt ? [x.r.fact] : []));
  if (new Set(facts.map((f) => f.topic)).size === 1) return [best.r.fact, ...facts.filter((f) => f !== best.r.fact)];
  return top.length > 2 ? [] : [best.r.fact];
}

/**
 * The fact one of whose own `ask` questions the line holds word for word ("where are you from,
 * originally?", "how far is Millbrook?"), when exactly one does: the card's author says that line
 * asks about it, whatever the keywords or the readers of requests and directions say.
 */
export function directlyAsked(card: CharacterCard, say: string): Fact | undefined {
  const line = ` ${plain(say)} `;
  const direct = card.facts.filter((f) => f.ask.some((q) => plain(q) !== "" && line.includes(` ${plain(q)} `)));
  return direct.length === 1 ? direct[0] : undefined;
}

/** Lower case, words only, single spaces. */
function plain(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9' ]+/g, " ").replace(/\s+/g, " ").trim();
}

/** Does the fact speak of the NPC's own `word` ("Hilde's stew", "her stew")? */
function ownedBy(card: CharacterCard, fact: Fact, word: string): boolean {
  const names = [...ownNames(card)].filter((w) => w !== "old").map(escape).join("|");
  return new RegExp(`\\b(?:${names})'s\\s+(?:[a-z]+\\s+)?${escape(word)}`, "i").test(fact.text);
}

/** The words that name what a fact is about: its capitalised words past the first and its `about` id with that one's alias. */
function namesIn(fact: Fact, aliases: Record<string, string>): Set<string> {
  const caps = (fact.text.match(/[A-Za-z][A-Za-z'-]*/g) ?? []).filter((w, i) => i > 0 && /^[A-Z]/.test(w));
  return keywords([...caps, fact.about ?? "", fact.about ? aliases[fact.about] ?? "" : ""].join(" "));
}

/** What the lore check needs beside the card and the line. */
export interface LoreCheckOptions {
  /** Words for the ids facts are `about` (context.ts `factAliases`). */
  aliases?: Record<string, string>;
  /** Which of the card's lines is said when no reply agrees (the server picks at random; the evaluations by case). */
  pick?: number;
  /** The prompt's situation line: in danger ("danger: …") nothing is checked. */
  state?: string;
}

/** The line without the NPC's name said to it ("Old Wen, what cures tiredness?" → "what cures tiredness?"). */
export function withoutAddress(card: CharacterCard, say: string): string {
  const names = [...new Set([card.name, ...card.name.split(/\s+/).filter((w) => w.toLowerCase() !== "old")])].sort((a, b) => b.length - a.length).map(escape).join("|");
  return say.replace(new RegExp(`^\\s*(?:hey|hi|oi|so|ok|okay|well|sorry|um|hmm|excuse me|listen)?[\\s,]*(?:${names})\\s*[,:!-]+\\s*`, "i"), "")
    .replace(new RegExp(`[\\s,]+(?:${names})\\s*([?!.]*)\\s*$`, "i"), "$1")
    // A courtesy after the question ("is the paddock nearby? thanks") is no part of it.
    .replace(/([?!.])\s*(?:thanks|thank\s+you|thx|please|pls|cheers|mate|friend|lol)\W*$/i, "$1");
}

/**
 * The lore check for a reply to `say` (core/prompt/reply-check.ts), or null when the line asks
 * nothing a card fact or the card's name answers (or in danger).
 */
export function loreCheckFor(card: CharacterCard, line: string, o: LoreCheckOptions = {}): ReplyCheck | null {
  // In danger the NPC answers the danger, not the question ("what's your name?" → "Run!").
  if (/^danger\b/i.test(o.state ?? "")) return null;
  const say = withoutAddress(card, line);
  const pick = o.pick ?? 0;
  const aliases = o.aliases ?? {};
  // Prices, sales, offers and the list of goods: the card's goods line answers (trade-check.ts).
  const trade = tradeCheckFor(card, say, pick);
  if (trade !== null) return trade;
  const direct = directlyAsked(card, say);
  if (direct === undefined) {
    if (!asksSomething(say) && !asksWhoYouAre(say)) return null;
    // "What's going on around here?" asks for news, not the surroundings.
    // Who the NPC is, the news and a topic asked for ("I'm looking for work") are never about acting or the surroundings.
    const topic = asksWhoYouAre(say) || NEWS.test(say) || TOPIC_REQUEST.test(say);
    if (!topic && (asksToActOrForTheWay(say) || asksAboutSurroundings(say))) return null;
  }
  if (direct === undefined && asksWhoYouAre(say)) {
    const words = [...ownNames(card)].filter((w) => w !== "old").concat(card.role.toLowerCase().split(/[\s-]+/).filter((w) => w.length >= 4));
    return {
      kind: "lore",
      agrees: (reply) => (words.some((w) => says(reply, w)) ? [] : [`does not say who ${card.name} is (${words.join(", ")})`]),
      voice: (least) => inMoodOf(least, introductionInVoice(card, pick), card.defaultMood),
    };
  }
  const facts = askedFacts(card, say, aliases);
  if (facts.length === 0) return null;
  const wanted = facts.map((f) => answerWords(card, f, say));
  if (wanted.every((w) => w.length === 0)) return null;
  return {
    kind: "lore",
    agrees: (reply) => (wanted.some((ws) => ws.some((w) => says(reply, w))) ? [] : [`does not say ${wanted.flat().join(" or ")} ("${facts[0].text}")`]),
    voice: (least) => inMoodOf(least, factInVoice(card, facts[pick % facts.length], Math.floor(pick / facts.length)), card.defaultMood),
  };
}
