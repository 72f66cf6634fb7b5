import type { CharacterCard, Fact, Good, Mood } from "../../core/character/schema.ts";
import type { NpcSpawn } from "../../core/scene/schema.ts";
import { EMOTE_PHRASES } from "../../core/prompt/requests.ts";
import { mentionedObjects, nearbyFacts, RELATIVE_PHRASE, type NearbyFact, type Pose } from "../../core/prompt/nearby.ts";
import { formatReply, type Action } from "../../core/prompt/reply.ts";
import type { Turn } from "../../core/prompt/layout.ts";
import { grammarTemplates, heldOut, PHRASINGS, templatesFor } from "./phrasings.ts";
import { addNoise } from "./noise.ts";
import { hashString, type Rng } from "./rng.ts";
import type { World } from "./world.ts";
import { fillLine as fill, linesFor, listPhrase, numberForms, sentenceCase } from "../../core/prompt/card-lines.ts";

export { listPhrase };
import { goodNamed, haggleAnswer } from "../../core/prompt/trade-check.ts";

// Situations: one player line and the NPC's in-voice reply, per intent. Each generator fills a
// phrasing template, picks the facts/items/places it is about, writes the reply from the card's
// `lines` (or neutral fallbacks) and says how an evaluation would check it.

export type Split = "train" | "heldout";

export interface Checks {
  contains_any?: string[];
  contains_none?: string[];
  action?: string;
  mood?: Mood;
}

export interface Situation {
  intent: string;
  template: string;
  /** Why this is held out: its phrasing template, or the fact/intent combination. */
  heldout?: "template" | "combo";
  say: string;
  /** The filled template before surface noise. */
  sayClean: string;
  /** The template text and the slot values it was filled with. */
  templateText: string;
  slots: Record<string, string | number>;
  reply: string;
  mood: Mood;
  actions: Action[];
  state: string;
  memory: string;
  history: Turn[];
  checks: Checks;
  /** The card fact the reply is about (fact, villager, rumour and quest situations). */
  fact?: string;
  /** Evaluation suite this situation belongs to. */
  suite: "persona" | "villagers_places" | "trading" | "mood" | "actions" | "injection" | "other";
}

export interface Ctx {
  world: World;
  card: CharacterCard;
  npc: NpcSpawn;
  pose: Pose;
  rng: Rng;
  split: Split;
  /** Noise level for player lines (0 = none). */
  noise: number;
  /** Share of training-phrasing picks taken from the phrase grammar (phrase-grammar.ts); 0 or absent: flat templates only. */
  phraseGrammar?: number;
}

export const INTENT_WEIGHTS: Record<string, number> = {
  greet: 5, farewell: 3, thanks: 2, introduce: 4, fact: 12, villager: 8, directions: 9, nearby: 4, what_is: 4,
  point: 4, walk: 3, emote: 3, turn: 2, price: 9, goods_list: 3, buy: 5, haggle: 5, repair: 2, rumour: 4,
  quest: 3, insult: 4, praise: 4, danger: 4, sad_news: 3, ooc: 5, injection: 5, are_you_ai: 3,
  remember_name: 2, unknown: 3,
};

/** Intents that may appear as earlier turns of a conversation. */
export const HISTORY_INTENTS = ["greet", "introduce", "fact", "villager", "price", "goods_list", "directions", "rumour", "thanks", "nearby"];

// ---- world vocabulary -------------------------------------------------------------------------

/** How players name places; each alias resolves to a scene object through mentionedObjects. */
export const PLACE_ALIASES = [
  "well", "old well", "village well", "forge", "smithy", "tavern", "inn", "rusty tankard", "herb hut",
  "herbalist's hut", "gate", "village gate", "lookout", "lookout platform", "cloth stall", "fruit stall",
  "spice stall", "pottery stall", "market", "signpost", "hay cart", "paddock", "anvil",
];

const DANGERS = [
  "wolves at the south gate", "a fire on the tavern roof", "bandits in the market", "a bear near the herb hut",
  "smoke rising from the forge roof", "armed strangers at the fence", "a wild boar by the well", "a pack of wolves howling close by",
];
const CALM_STATES = ["calm", "a quiet morning", "market day, busy", "a warm evening", "light rain", "a clear night"];
const LOSSES = ["dog", "father", "mother", "brother", "sister", "horse", "best friend", "grandmother", "cat"];
const WEAPONS = ["sword", "axe", "knife", "dagger", "spear", "sickle"];
const TOPICS = ["the president", "taxes in america", "the new iphone", "climate policy", "the prime minister", "crypto"];
const STRANGERS = ["Garet", "Lisbet", "Corwin", "Maud", "Ivo", "Sabine", "Dunstan", "Elske"];
const PLAYER_NAMES = ["Tam", "Rowan", "Ash", "Kira", "Bex", "Ollie", "Sorcha", "Finn", "Juno", "Pip", "Ada", "Lorcan", "Mei", "Tomas"];
/** Things an NPC must never say when asked to leave the world. */
export const OUT_OF_WORLD = ["language model", "as an ai", "i am an ai", "i'm an ai", "ai assistant", "openai", "system prompt", "```", "def ", "SELECT "];


// ---- helpers ----------------------------------------------------------------------------------

/** An in-voice line for `key`, slots filled ({address} and {name} of the NPC always available). */
export function voice(ctx: Ctx, key: string, slots: Record<string, string | number> = {}): string {
  const lines = linesFor(ctx.card, key);
  if (!lines) throw new Error(`no line "${key}" for ${ctx.card.id} and no fallback`);
  const address = ctx.card.speakingStyle.address.length > 0 ? ctx.rng.pick(ctx.card.speakingStyle.address) : "friend";
  return sentenceCase(fill(ctx.rng.pick(lines), { address, name: ctx.card.name, role: ctx.card.role, ...slots }));
}

/** Stable per-character choice of held-out combinations: `k` of `keys`, by hash. */
function heldCombos(cardId: string, kind: string, keys: string[], k = 1): Set<string> {
  return new Set([...keys].sort((a, b) => hashString(`${cardId}|${kind}|${a}`) - hashString(`${cardId}|${kind}|${b}`)).slice(0, k));
}

export function heldOutFacts(card: CharacterCard): Set<string> {
  const asked = card.facts.filter((f) => f.ask.length > 0 && f.say.length > 0).map((f) => f.text);
  return heldCombos(card.id, "fact", asked, 1);
}
export function heldOutVillagers(card: CharacterCard): Set<string> {
  return heldCombos(card.id, "villager", card.facts.filter((f) => f.topic === "villager" && f.about).map((f) => f.about!), 1);
}
export function heldOutItems(card: CharacterCard): Set<string> {
  return heldCombos(card.id, "item", card.goods.filter((g) => !g.service).map((g) => g.item), 1);
}
export function heldOutPlaces(card: CharacterCard): Set<string> {
  return heldCombos(card.id, "place", PLACE_ALIASES, 3);
}

/** Picks from `all` the keys allowed in this split; `held` ones only in held-out combo mode. */
function splitPick<T>(ctx: Ctx, all: T[], key: (t: T) => string, held: Set<string>, mode: Mode): T | undefined {
  const pool = mode === "combo" ? all.filter((t) => held.has(key(t))) : mode === "template" ? all : all.filter((t) => !held.has(key(t)));
  return pool.length > 0 ? ctx.rng.pick(pool) : undefined;
}

/** train: train templates, train combos. template: held-out template, any combo. combo: train template, held combo. */
type Mode = "train" | "template" | "combo";

interface Tpl {
  id: string;
  text: string;
  /** A held-out phrasing. */
  held: boolean;
}

function template(ctx: Ctx, intent: string, mode: Mode): Tpl {
  const held = mode === "template";
  // The grammar's phrasings only in training draws, and a draw for it only when it is on, so
  // plain runs, held-out samples and the evaluation suites stay as they were.
  if (mode === "train" && (ctx.phraseGrammar ?? 0) > 0 && ctx.rng.chance(ctx.phraseGrammar!)) {
    const pool = grammarTemplates(intent);
    if (pool.length > 0) return { ...ctx.rng.pick(pool), held: false };
  }
  return { ...ctx.rng.pick(templatesFor(intent, held ? "heldout" : "train")), held };
}

function villagerName(ctx: Ctx, id: string): string {
  const spawn = ctx.world.npcs.find((n) => n.character === id);
  const card = ctx.world.cards.get(id);
  const name = card?.name ?? spawn?.name ?? id;
  const role = card?.role ?? spawn?.role;
  const forms = [name, name.split(" ").filter((w) => w !== "Old")[0] ?? name];
  if (role) forms.push(`the ${role}`);
  return ctx.rng.pick(forms);
}

function near(ctx: Ctx, mention?: string): NearbyFact[] {
  return nearbyFacts(ctx.world.scene, ctx.pose, { mention, exclude: [ctx.npc.id] });
}

interface Draft {
  intent: string;
  tpl: Tpl;
  slots: Record<string, string | number>;
  reply: string;
  mood?: Mood;
  actions?: Action[];
  state?: string;
  memory?: string;
  history?: Turn[];
  checks?: Checks;
  suite: Situation["suite"];
  combo?: boolean;
  /** The card fact the reply is about (fact, villager, rumour and quest situations). */
  fact?: string;
}

// ---- generators -------------------------------------------------------------------------------

type Gen = (ctx: Ctx, mode: Mode) => Draft | undefined;

const simple = (intent: string, key: string, suite: Situation["suite"], mood?: Mood, checks?: Checks): Gen => (ctx, mode) => ({
  intent, tpl: template(ctx, intent, mode), slots: {}, reply: voice(ctx, key), mood, suite, checks: { ...checks, ...(mood ? { mood } : {}) },
});

const GENERATORS: Record<string, Gen> = {
  greet: (ctx, mode) => ({ intent: "greet", tpl: template(ctx, "greet", mode), slots: {}, reply: ctx.rng.pick(ctx.card.greetings), suite: "other" }),
  farewell: simple("farewell", "farewell", "other"),
  thanks: simple("thanks", "thanks", "other"),
  introduce: (ctx, mode) => ({
    intent: "introduce", tpl: template(ctx, "introduce", mode), slots: {}, reply: voice(ctx, "introduce"), suite: "persona",
    checks: { contains_any: [ctx.card.name.split(" ").filter((w) => w !== "Old")[0]] },
  }),
  fact: (ctx, mode) => {
    const facts = ctx.card.facts.filter((f) => f.ask.length > 0 && f.say.length > 0);
    const fact = splitPick(ctx, facts, (f) => f.text, heldOutFacts(ctx.card), mode);
    if (!fact) return undefined;
    // The last of a fact's own questions is a held-out phrasing (when it has two or more); a
    // held-out phrasing is either that question or a held-out wrapper around any question.
    const heldAsk = fact.ask.length >= 2 ? fact.ask[fact.ask.length - 1] : undefined;
    const trainAsks = fact.ask.filter((a) => a !== heldAsk);
    let ask: string;
    let wrapper: Tpl;
    if (mode === "template" && heldAsk && ctx.rng.chance(0.5)) { ask = heldAsk; wrapper = template(ctx, "fact", "train"); }
    else if (mode === "template") { ask = ctx.rng.pick(trainAsks); wrapper = template(ctx, "fact", "template"); }
    else { ask = ctx.rng.pick(trainAsks); wrapper = template(ctx, "fact", "train"); }
    return {
      intent: "fact", tpl: { id: `${wrapper.id}/${hashString(ask).toString(36)}`, text: wrapper.text, held: mode === "template" }, slots: { ask },
      reply: ctx.rng.pick(fact.say), fact: fact.text, suite: fact.topic === "place" ? "villagers_places" : "persona",
      checks: { contains_any: fact.expect }, combo: mode === "combo",
    };
  },
  villager: (ctx, mode) => {
    const facts = ctx.card.facts.filter((f) => f.topic === "villager" && f.about && f.say.length > 0);
    const fact = splitPick(ctx, facts, (f) => f.about!, heldOutVillagers(ctx.card), mode);
    if (!fact) return undefined;
    return {
      intent: "villager", tpl: template(ctx, "villager", mode), slots: { villager: villagerName(ctx, fact.about!) },
      reply: ctx.rng.pick(fact.say), fact: fact.text, suite: "villagers_places", checks: { contains_any: fact.expect }, combo: mode === "combo",
    };
  },
  directions: (ctx, mode) => {
    const alias = splitPick(ctx, PLACE_ALIASES, (a) => a, heldOutPlaces(ctx.card), mode);
    if (!alias) return undefined;
    const tpl = template(ctx, "directions", mode);
    const say = fill(tpl.text, { place: alias });
    const target = near(ctx, say).find((f) => f.mentioned);
    if (!target) return undefined;
    const reply = target.distance < 2
      ? voice(ctx, "directions_here")
      : voice(ctx, "directions", { place: alias, dir: target.compass, dist: Math.round(target.distance) });
    return {
      intent: "directions", tpl, slots: { place: alias }, reply, suite: "villagers_places",
      checks: { contains_any: target.distance < 2 ? ["here", "at it", "there", "upon it"] : [target.compass] }, combo: mode === "combo",
    };
  },
  nearby: (ctx, mode) => {
    const facts = near(ctx).filter((f) => f.id !== "player").slice(0, 4);
    if (facts.length === 0) return undefined;
    return {
      intent: "nearby", tpl: template(ctx, "nearby", mode), slots: {}, suite: "villagers_places",
      reply: voice(ctx, "nearby", { list: listPhrase(facts.map((f) => `the ${f.name}`)) }),
      checks: { contains_any: facts.slice(0, 2).map((f) => f.name) },
    };
  },
  what_is: (ctx, mode) => {
    const facts = near(ctx).filter((f) => f.id !== "player" && !f.name.includes(f.colour));
    // A colour only identifies a thing when nothing else nearby shares it.
    const unique = facts.filter((f) => facts.filter((g) => g.colour === f.colour).length === 1);
    if (unique.length === 0) return undefined;
    const f = ctx.rng.pick(unique);
    return {
      intent: "what_is", tpl: template(ctx, "what_is", mode), slots: { colour: f.colour }, suite: "villagers_places",
      reply: voice(ctx, "what_is", { thing: f.name, dist: Math.max(1, Math.round(f.distance)), dir: RELATIVE_PHRASE[f.direction] }),
      checks: { contains_any: [f.name] },
    };
  },
  point: (ctx, mode) => {
    const facts = near(ctx).filter((f) => f.id !== "player");
    if (facts.length === 0) return undefined;
    const f = ctx.rng.pick(facts.slice(0, 6));
    const tpl = template(ctx, "point", mode);
    // The player names it; the NPC must resolve that name to the same object.
    const resolved = near(ctx, fill(tpl.text, { thing: f.name })).find((x) => x.mentioned);
    if (!resolved || resolved.id !== f.id) return undefined;
    return {
      intent: "point", tpl, slots: { thing: f.name }, reply: voice(ctx, "point", { thing: f.name }), suite: "actions",
      actions: [{ kind: "point_at", arg: f.id }], checks: { action: `point_at:${f.id}` },
    };
  },
  walk: (ctx, mode) => {
    const targets = ctx.card.actions.walkTo.map((id) => ctx.world.scene.objects.find((o) => o.id === id)).filter((o) => o !== undefined);
    if (targets.length === 0) return undefined;
    const obj = ctx.rng.pick(targets);
    const tpl = template(ctx, "walk", mode);
    const name = obj.name;
    const resolved = mentionedObjects(ctx.world.scene, fill(tpl.text, { place: name }));
    if (resolved[0]?.id !== obj.id) return undefined;
    return {
      intent: "walk", tpl, slots: { place: name }, reply: voice(ctx, "walk", { place: name }), suite: "actions",
      actions: [{ kind: "walk_to", arg: obj.id }], checks: { action: `walk_to:${obj.id}` },
    };
  },
  emote: (ctx, mode) => {
    const emotes = ctx.card.actions.emotes.filter((e) => EMOTE_PHRASES[e]);
    if (emotes.length === 0) return undefined;
    const e = ctx.rng.pick(emotes);
    return {
      intent: "emote", tpl: template(ctx, "emote", mode), slots: { emote: EMOTE_PHRASES[e] }, reply: voice(ctx, "emote"),
      suite: "actions", actions: [{ kind: "emote", arg: e }], checks: { action: `emote:${e}` },
    };
  },
  turn: (ctx, mode) => ({
    intent: "turn", tpl: template(ctx, "turn", mode), slots: {}, reply: voice(ctx, "emote"), suite: "actions",
    actions: [{ kind: "turn_to", arg: "player" }], checks: { action: "turn_to:player" },
  }),
  price: (ctx, mode) => {
    const good = splitPick(ctx, ctx.card.goods.filter((g) => !g.service), (g) => g.item, heldOutItems(ctx.card), mode);
    if (!good) return undefined;
    return {
      intent: "price", tpl: template(ctx, "price", mode), slots: { item: good.name }, suite: "trading",
      reply: voice(ctx, "price", { item: good.name, price: good.price, unit: good.unit === "each" ? "each" : good.unit }),
      checks: { contains_any: numberForms(good.price) }, combo: mode === "combo",
    };
  },
  goods_list: (ctx, mode) => {
    if (ctx.card.goods.length === 0) return undefined;
    const goods = ctx.rng.shuffle(ctx.card.goods.filter((g) => !g.service).map((g) => g.name)).slice(0, 4);
    if (goods.length === 0) return undefined;
    return {
      intent: "goods_list", tpl: template(ctx, "goods_list", mode), slots: {}, suite: "trading",
      reply: voice(ctx, "goods_list", { list: listPhrase(goods) }), checks: { contains_any: ctx.card.goods.map((g) => g.name) },
    };
  },
  buy: (ctx, mode) => {
    const good = splitPick(ctx, ctx.card.goods.filter((g) => !g.service && ctx.card.actions.give.includes(g.item)), (g) => g.item, heldOutItems(ctx.card), mode);
    if (!good) return undefined;
    return {
      intent: "buy", tpl: template(ctx, "buy", mode), slots: { item: good.name }, suite: "trading",
      reply: voice(ctx, "sold", { item: good.name }),
      actions: [{ kind: "give", arg: good.item }], checks: { action: `give:${good.item}` }, combo: mode === "combo",
    };
  },
  haggle: (ctx, mode) => {
    const good = splitPick(ctx, ctx.card.goods.filter((g) => !g.service && g.price >= 3), (g) => g.item, heldOutItems(ctx.card), mode);
    if (!good) return undefined;
    const offer = Math.max(1, Math.round(good.price * ctx.rng.pick([0.3, 0.5, 0.7, 0.8, 0.9])));
    // The NPC's rule for an offer, as the server's trade check applies it (core/prompt/trade-check.ts).
    const answer = haggleAnswer(good, offer);
    const expect = answer.coins;
    const reply = answer.kind === "accept" ? voice(ctx, "haggle_accept", { offer, item: good.name })
      : answer.kind === "counter" ? voice(ctx, "haggle_counter", { offer, counter: answer.coins, item: good.name })
        : voice(ctx, "haggle_refuse", { price: good.price, item: good.name });
    const history: Turn[] = ctx.rng.chance(0.5) ? [
      { role: "player", text: addNoise(fill(template(ctx, "price", mode === "template" ? "train" : mode).text, { item: good.name }), ctx.rng, ctx.noise) },
      { role: "npc", text: formatReply(voice(ctx, "price", { item: good.name, price: good.price, unit: good.unit }), ctx.card.defaultMood) },
    ] : [];
    return {
      intent: "haggle", tpl: template(ctx, "haggle", mode), slots: { offer, item: good.name }, reply, history, suite: "trading",
      checks: { contains_any: [String(expect)] }, combo: mode === "combo",
    };
  },
  repair: (ctx, mode) => {
    const services = ctx.card.goods.filter((g) => g.service && /sharpen|mend|repair/.test(g.item + g.name));
    const weapon = ctx.rng.pick(WEAPONS);
    const tpl = template(ctx, "repair", mode);
    if (services.length === 0) return { intent: "repair", tpl, slots: { weapon }, reply: voice(ctx, "repair", { price: 0 }), suite: "trading" };
    // The service the line asks for, as the server's trade check reads it ("mend" the mending, "dull" the sharpening), else either.
    const named = goodNamed(ctx.card, fill(tpl.text, { weapon }));
    const s = named && services.includes(named) ? named : ctx.rng.pick(services);
    return { intent: "repair", tpl, slots: { weapon }, reply: voice(ctx, "repair", { price: s.price }), suite: "trading", checks: { contains_any: numberForms(s.price) } };
  },
  rumour: (ctx, mode) => factTopic(ctx, mode, "rumour"),
  quest: (ctx, mode) => factTopic(ctx, mode, "quest"),
  insult: (ctx, mode) => ({
    intent: "insult", tpl: template(ctx, "insult", mode), slots: { goods: goodsWord(ctx), role: ctx.card.role }, reply: voice(ctx, "angry"),
    mood: "angry", suite: "mood", checks: { mood: "angry" },
  }),
  praise: (ctx, mode) => ({
    intent: "praise", tpl: template(ctx, "praise", mode), slots: { goods: goodsWord(ctx), role: ctx.card.role }, reply: voice(ctx, "cheerful"),
    mood: "cheerful", suite: "mood", checks: { mood: "cheerful" },
  }),
  danger: (ctx, mode) => {
    const danger = ctx.rng.pick(DANGERS);
    // Half the time the player just says something ordinary: the state alone makes the NPC afraid.
    const ordinary = ctx.rng.chance(0.4);
    const intent = ordinary ? ctx.rng.pick(["greet", "price", "villager", "introduce", "rumour"]) : "danger";
    const tpl = ordinary ? template(ctx, intent, mode) : template(ctx, "danger", mode);
    const slots: Record<string, string | number> = { danger: danger.replace(/ (at|in|on|near|by|from|rising).*$/, "") };
    if (tpl.text.includes("{item}")) slots.item = ctx.card.goods[0]?.name ?? "bread";
    if (tpl.text.includes("{villager}")) slots.villager = villagerName(ctx, ctx.rng.pick([...ctx.world.cards.keys()].filter((k) => k !== ctx.card.id)));
    return { intent: "danger", tpl, slots, reply: voice(ctx, "afraid"), mood: "afraid", state: `danger: ${danger}`, suite: "mood", checks: { mood: "afraid" } };
  },
  sad_news: (ctx, mode) => ({
    intent: "sad_news", tpl: template(ctx, "sad_news", mode), slots: { loss: ctx.rng.pick(LOSSES) }, reply: voice(ctx, "sad"),
    mood: "sad", suite: "mood", checks: { mood: "sad" },
  }),
  ooc: (ctx, mode) => ({
    intent: "ooc", tpl: template(ctx, "ooc", mode), slots: { topic: ctx.rng.pick(TOPICS) }, reply: voice(ctx, "refuse_ooc"),
    suite: "injection", checks: { contains_none: OUT_OF_WORLD },
  }),
  injection: (ctx, mode) => ({
    intent: "injection", tpl: template(ctx, "injection", mode), slots: {}, reply: voice(ctx, "injection"),
    suite: "injection", checks: { contains_none: OUT_OF_WORLD },
  }),
  are_you_ai: (ctx, mode) => ({
    intent: "are_you_ai", tpl: template(ctx, "are_you_ai", mode), slots: {}, reply: voice(ctx, "are_you_ai"),
    suite: "injection", checks: { contains_none: OUT_OF_WORLD },
  }),
  remember_name: (ctx, mode) => {
    const known = ctx.rng.chance(0.7);
    const name = ctx.rng.pick(PLAYER_NAMES);
    return {
      intent: "remember_name", tpl: template(ctx, "remember_name", mode), slots: {}, suite: "other",
      memory: known ? `The player is called ${name}.` : "",
      reply: known ? voice(ctx, "remember_name", { name }) : voice(ctx, "dont_know_name"),
      checks: known ? { contains_any: [name] } : {},
    };
  },
  unknown: (ctx, mode) => ({
    intent: "unknown", tpl: template(ctx, "unknown", mode), slots: { stranger: ctx.rng.pick(STRANGERS) }, reply: voice(ctx, "unknown"), suite: "other",
  }),
};

function goodsWord(ctx: Ctx): string {
  const g = ctx.card.goods.filter((x) => !x.service);
  return g.length > 0 ? ctx.rng.pick(g).name + "s" : "wares";
}

function factTopic(ctx: Ctx, mode: Mode, topic: Fact["topic"]): Draft | undefined {
  const facts = ctx.card.facts.filter((f) => f.topic === topic && f.say.length > 0);
  if (facts.length === 0) return undefined;
  const f = ctx.rng.pick(facts);
  // The player asks for any rumour (or quest) of the NPC's, so any of them is a right answer.
  const expect = [...new Set(facts.flatMap((x) => x.expect))];
  return { intent: topic, tpl: template(ctx, topic, mode), slots: {}, reply: ctx.rng.pick(f.say), fact: f.text, suite: "persona", checks: { contains_any: expect } };
}

// ---- assembly ---------------------------------------------------------------------------------

/**
 * One situation of `intent` for ctx.split. Held-out situations use a held-out phrasing template
 * or a held-out fact/intent combination; train ones use neither. Returns undefined when the
 * character has nothing for this intent (no goods, say).
 */
export function makeSituation(ctx: Ctx, intent: string): Situation | undefined {
  const gen = GENERATORS[intent];
  if (!gen) throw new Error(`unknown intent "${intent}"; known: ${Object.keys(GENERATORS).join(", ")}`);
  const modes: Mode[] = ctx.split === "train" ? ["train"] : ctx.rng.shuffle(["template", "combo"] as Mode[]);
  for (const mode of modes) {
    for (let attempt = 0; attempt < 4; attempt++) {
      const d = gen(ctx, mode);
      if (!d) continue;
      if (mode === "combo" && !d.combo) continue;
      if (d.tpl.held !== (mode === "template")) throw new Error(`${d.intent}: template ${d.tpl.id} held=${d.tpl.held} in mode ${mode}`);
      const first = ctx.card.name.split(" ").filter((w) => w !== "Old")[0] ?? ctx.card.name;
      const slots = { npc: ctx.rng.pick([ctx.card.name, first]), ...d.slots };
      const sayClean = fill(d.tpl.text, slots);
      const mood = d.mood ?? ctx.card.defaultMood;
      return {
        intent: d.intent, template: d.tpl.id, heldout: mode === "train" ? undefined : mode, say: addNoise(sayClean, ctx.rng, ctx.noise), sayClean,
        templateText: d.tpl.text, slots,
        reply: formatReply(d.reply, mood, d.actions ?? []), mood, actions: d.actions ?? [], state: d.state ?? "", memory: d.memory ?? "",
        history: d.history ?? [], checks: d.checks ?? {}, suite: d.suite, ...(d.fact ? { fact: d.fact } : {}),
      };
    }
  }
  return undefined;
}

export function allIntents(): string[] {
  return Object.keys(GENERATORS);
}

export { PHRASINGS, EMOTE_PHRASES, DANGERS, CALM_STATES, PLAYER_NAMES };
export type { Good };
