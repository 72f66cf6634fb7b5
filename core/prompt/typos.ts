import type { CharacterCard } from "../character/schema.ts";
import { editDistance, swapped } from "../scene/suggest.ts";

// Typos of the words the line readers go by, mended before they read a player's line (the checks
// of core/prompt/checks.ts). Players type fast: "waht day is the market?", "teell me about the
// innkeeper", "any newz?", "whre is the well" each miss a reader that keys on one word, and the
// reply then goes unchecked. A word is mended when it is no word the readers or the card know and
//   - it is chat shorthand ("u", "ur", "pls", "abt"), or
//   - with its doubled letters single it is one ("teell", "youur"), or
//   - it is one edit (a letter dropped, added or changed, two neighbours swapped) from exactly one
//     of them of four letters or more ("whta", "newz", "ibteresting"; three-letter words only by a
//     dropped letter: "wat", "sel", "mch"),
// and is not a common word of its own one edit away from one ("that", "well", "bell", "witch": the
// list below). No word the card's author wrote is mended either ("Wen" stays Wen, "take" stays).
// The model still reads the line as typed: it learnt from lines with typos.

/** The readers' words a typo is mended to: questions, trade, news, who the NPC is, the way, requests, colours. */
const READER_WORDS = words(`
  what where when which whose tell about much many sell selling sells price prices worth cost costs
  news rumours rumors rumour rumor gossip interesting happening something anything please your
  yourself name repair sharpen mend trade wares goods think story know heard around direction
  directions market looking thanks thank work help introduce items stock offer
  yellow purple orange brown green white black grey gray blue pink`);

/** Chat shorthand, read as the words it stands for. */
const SHORTHAND: Record<string, string> = {
  u: "you", ya: "you", ur: "your", yr: "your", r: "are", pls: "please", plz: "please", pleez: "please",
  thx: "thanks", ty: "thanks", abt: "about", bout: "about", wut: "what", wot: "what", hw: "how",
  whr: "where", wher: "where", smth: "something", sth: "something", anythin: "anything", somethin: "something",
};

// Common words one edit from a reader word, which are words of their own.
const OWN_WORDS = words(`
  that chat whet wheat whit wham whats hat there here were whore when then hen wren witch whole hose
  those wen whee whence bell cell dell fell hell sell well yell tall till toll teal tells telly
  abbot such mach muck mush mulch mane mans mary may man any mangy seal self sill shell spell
  smell prize pride prick rice spice prince pricey priced north forth wroth worthy cast coat cot cosy
  most post host lost coast new newt mews sews pews nets humour humor tumours tumors nothing pleased
  lease pleas you our four pour tour sour hour yours york same came game fame tame lame names named
  dame repairs repaid sharper sharpens mind mead bend fend lend send tend vend mends men grade trace
  tread trader trades traded ware wards warms mares hares cares dares fares waves wages wires good
  gods hoods woods foods thick thin thing stink chink thinks thank stork store stony storm knew knot
  now snow known knob knows hearth beard hears heart herd hard hoard round aground abound marker
  markets marked booking cooking hooking locking looting word worm cork fork pork wore worn works
  held hemp kelp yelp helm whelp shanks hanks tank head heap yore whew nape wonk golds goofs goons
  waxes wakes wanes wades telling yelling thinks pricy whiny danger badger digger ranger sale back inn
  crown frown drown grown brows while whine write block slack blank flack grew prey glue clue blur
  link pint mink sink wink pine fellow mellow bellow greet greed red
`);

function words(text: string): Set<string> {
  return new Set(wordsIn(text));
}

/**
 * The words of a card the readers use beyond their own: its goods, places and name, those of six
 * letters or more ("swrod" stays: "rope", "salve" and "stew" are one letter from "robe", "sale" and
 * "step", and a card's short words are too many to list the common words beside them).
 */
function cardTargets(card: CharacterCard): string[] {
  return wordsIn([card.name, ...card.goods.flatMap((g) => [g.name, g.item]), ...card.actions.walkTo].join(" ")).filter((w) => w.length >= 6);
}

/** Every word the card's author wrote (its facts, lines, greetings, description): real words, never mended. */
function cardText(card: CharacterCard): string[] {
  return wordsIn(JSON.stringify(card));
}

function wordsIn(text: string): string[] {
  return text.toLowerCase().replace(/_/g, " ").match(/[a-z]+/g) ?? [];
}

const perCard = new WeakMap<CharacterCard, { known: Set<string>; targets: string[] }>();

function vocabulary(card: CharacterCard): { known: Set<string>; targets: string[] } {
  let v = perCard.get(card);
  if (!v) {
    const targets = [...new Set([...READER_WORDS, ...cardTargets(card)])];
    perCard.set(card, (v = { known: new Set([...targets, ...cardText(card), ...OWN_WORDS]), targets }));
  }
  return v;
}

/** The word a typed word stands for, or the word itself. */
function mendWord(w: string, v: { known: Set<string>; targets: string[] }): string {
  if (w in SHORTHAND) return SHORTHAND[w];
  if (w.length < 3 || v.known.has(w) || /\d/.test(w)) return w;
  const single = w.replace(/([a-z])\1+/g, "$1");
  if (single !== w && single.length >= 4 && v.targets.includes(single)) return single;
  // Card words (cardTargets) only for typed words of six letters or more.
  const near = v.targets.filter((t) => (w.length >= 4 ? Math.abs(t.length - w.length) <= 1 && (swapped(w, t) || editDistance(w, t) === 1) : t.length === w.length + 1 && editDistance(w, t) === 1) && (READER_WORDS.has(t) || w.length >= 6));
  return near.length === 1 ? near[0] : w;
}

/** `line` with the typos of the readers' and the card's words mended (lower case where mended; the rest as typed). */
export function mendTypos(card: CharacterCard, line: string): string {
  const v = vocabulary(card);
  // "wat's" is read as "what's": the part before an apostrophe is mended, the ending kept.
  return line.replace(/([A-Za-z]+)('[A-Za-z]+)?/g, (token, stem: string, ending?: string) => {
    const mended = mendWord(stem.toLowerCase(), v);
    return mended === stem.toLowerCase() ? token : mended + (ending ?? "");
  });
}
