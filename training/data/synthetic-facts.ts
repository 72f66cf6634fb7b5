import type { CharacterCard, Fact } from "../../core/character/schema.ts";
import { assemblePrompt, playerInFront, sceneNpcEntities } from "../../core/prompt/context.ts";
import { renderCompletion } from "../../core/prompt/layout.ts";
import { formatReply } from "../../core/prompt/reply.ts";
import { properName } from "./counterfactual.ts";
import { addNoise } from "./noise.ts";
import { templatesFor } from "./phrasings.ts";
import { restateFact } from "../../core/prompt/restate.ts";
import { Rng } from "./rng.ts";
import { approxTokens, PROMPT_BUDGET, type Sample } from "./sample.ts";
import type { World } from "./world.ts";

// Made-up facts: copying from the prompt, measured and taught. A card's real facts are few, and a
// fact asked about in training always gets the same answer, so a model can learn each answer by
// heart and still have nothing for a fact it was never asked about. Here every sample gives the NPC
// one new fact, drawn from frames with random names, numbers, goods and places ("Brom keeps 14
// geese in a pen behind the mill."), in place of one of its card's facts, and asks about it: with
// the frame's own questions ("how many geese do you keep?") or a plain question about one of its
// words ("what about the geese?"). The prompt is the game's (core/prompt/context.ts), kept only
// when retrieval puts the new fact first; the answer is the fact in the NPC's words, which nothing
// but the prompt holds. Training data (npm run data:synthetic-facts) and the copy probe
// (npm run eval:copy, training/eval/copy-probe.ts) draw from here with different seeds.

const ANIMALS = ["geese", "goats", "hens", "bees", "ducks", "pigs", "sheep", "ferrets", "doves", "rabbits", "cows", "mules"];
const BUILDINGS = ["mill", "barn", "chapel", "bridge", "smokehouse", "granary", "boathouse", "orchard", "stable", "tannery", "dovecote", "old wall"];
const GOODS = ["wax", "flax", "salt", "honey", "cheese", "leather", "wool", "barley", "cider", "lamp oil", "pepper", "dyes", "thread", "glass"];
const THINGS = ["statue", "bench", "bell", "sign", "lantern", "stone", "fountain", "weathervane", "scarecrow", "milestone"];
const ADJECTIVES = ["old", "carved", "painted", "crooked", "tall", "cracked", "mossy", "bronze"];
const RELATIVES = ["brother", "sister", "cousin", "aunt", "uncle", "son", "daughter", "grandmother", "nephew", "niece"];
const SKILLS = ["swim", "carve wood", "read", "ride", "fish", "sing", "weave baskets", "play the fiddle", "tie knots", "keep bees"];
const TRADES = ["miller", "weaver", "boatman", "tanner", "cooper", "shepherd", "potter", "chandler", "ferryman", "beekeeper"];
const DAYS = ["Monday", "Tuesday", "Wednesday", "Friday", "Saturday", "Sunday"];
const DRINKS = ["cider", "mead", "goat's milk", "mint tea", "plum wine", "buttermilk", "nettle beer"];
const FAVOURITES: Record<string, string[]> = {
  season: ["spring", "summer", "autumn", "winter"],
  flower: ["primrose", "foxglove", "cornflower", "heather", "bluebell", "marigold"],
  colour: ["green", "ochre", "crimson", "grey", "violet", "amber"],
  song: ["The Miller's Daughter", "Rain on the Ridge", "Three Crows", "The Long Road Home"],
};
const name = (rng: Rng) => properName(rng, 1);

/** A made-up fact about the NPC `S` (or a thing near it): its text, its own questions, and words to ask about it by. */
type Frame = (S: string, rng: Rng) => { text: string; ask: string[]; about: string[]; keys: (string | number)[] };

const FRAMES: Frame[] = [
  (S, rng) => { const a = rng.pick(ANIMALS), b = rng.pick(BUILDINGS), n = rng.int(2, 40); return { text: `${S} keeps ${n} ${a} in a pen behind the ${b}.`, ask: [`how many ${a} do you keep?`, `do you keep ${a}?`, `do you have any animals?`], about: [a], keys: [a, b, n] }; },
  (S, rng) => { const r = rng.pick(RELATIVES), p = name(rng), t = name(rng), g = rng.pick(GOODS); return { text: `${S}'s ${r} ${p} lives in ${t} and sells ${g}.`, ask: [`where does your ${r} live?`, `who is ${p}?`, `do you have family?`], about: [r, p], keys: [r, p, t, g] }; },
  (S, rng) => { const g = rng.pick(GOODS), p = name(rng), t = name(rng), d = rng.pick(DAYS); return { text: `${S} buys ${g} from ${p} in ${t} every ${d}.`, ask: [`where do you get your ${g}?`, `who sells you ${g}?`, `when do you buy ${g}?`], about: [g], keys: [g, p, t, d] }; },
  (S, rng) => { const th = rng.pick(THINGS), adj = rng.pick(ADJECTIVES), b = rng.pick(BUILDINGS), p = name(rng), n = rng.int(3, 90); return { text: `The ${adj} ${th} by the ${b} was made by ${p} ${n} years ago.`, ask: [`who made the ${th}?`, `how old is the ${th}?`, `what's the story of the ${th}?`], about: [th], keys: [th, adj, b, p, n] }; },
  (S, rng) => { const sk = rng.pick(SKILLS), p = name(rng), tr = rng.pick(TRADES), t = name(rng); return { text: `${S} learned to ${sk} from ${p}, a ${tr} in ${t}.`, ask: [`who taught you to ${sk}?`, `can you ${sk}?`, `where did you learn to ${sk}?`], about: [sk], keys: [sk, p, tr, t] }; },
  (S, rng) => { const dr = rng.pick(DRINKS), b = rng.pick(BUILDINGS); return { text: `${S} drinks ${dr} every evening by the ${b}.`, ask: [`what do you like to drink?`, `do you drink ${dr}?`, `what do you do in the evening?`], about: [dr], keys: [dr, b] }; },
  (S, rng) => { const [k, vs] = rng.pick(Object.entries(FAVOURITES)); const v = rng.pick(vs); return { text: `${S}'s favourite ${k} is ${v}.`, ask: [`what's your favourite ${k}?`, `which ${k} do you like best?`], about: [k], keys: [v] }; },
  (S, rng) => { const t = name(rng), n = rng.int(2, 30), a = rng.pick(ANIMALS); return { text: `${S} once walked to ${t} and back in ${n} days with a herd of ${a}.`, ask: [`have you ever been to ${t}?`, `what happened in ${t}?`, `have you travelled far?`], about: [t, a], keys: [t, n, a] }; },
  (S, rng) => { const b = rng.pick(BUILDINGS), p = name(rng), tr = rng.pick(TRADES); return { text: `The ${b} belongs to ${p} the ${tr}, who rents it out on market days.`, ask: [`who owns the ${b}?`, `whose is the ${b}?`], about: [b, tr], keys: [b, p, tr] }; },
  (S, rng) => { const n = rng.int(2, 12), g = rng.pick(GOODS), t = name(rng); return { text: `A cart of ${g} from ${t} comes every ${n} days.`, ask: [`where does the ${g} come from?`, `how often does the ${g} cart come?`], about: [g, t], keys: [n, g, t] }; },
];

/** Plain questions about one word of a fact: they work for any fact, which is the point. */
const ABOUT = ["tell me about the {w}", "what about the {w}?", "anything to say about the {w}?", "{w}?", "do you know about the {w}?",
  "what's the story with the {w}?", "what can you tell me about {w}?", "any news about {w}?", "so, {w}?"];

/** `count` samples about made-up facts (split "train"), reproducible from `seed`. */
export function syntheticFactSamples(world: World, count: number, seed: number, log: (line: string) => void = () => {}): Sample[] {
  return syntheticFacts(world, count, seed, log).map((x) => x.sample);
}

export interface SyntheticFact {
  sample: Sample;
  /** The made-up fact as the prompt holds it. */
  fact: string;
  /** Its random parts the player's line does not name (names, numbers, goods…): a reply that
   *  holds them all was copied from the prompt; nothing else could produce them. */
  keys: string[];
}

/** The samples with their facts and the words only the prompt holds (for the copy probe). */
export function syntheticFacts(world: World, count: number, seed: number, log: (line: string) => void = () => {}): SyntheticFact[] {
  const rng = new Rng(`synthetic-facts|${seed}`);
  const wrappers = templatesFor("fact", "train");
  const out: SyntheticFact[] = [];
  const t0 = Date.now();
  let draws = 0;
  while (out.length < count) {
    if (++draws > count * 10) throw new Error(`synthetic facts: only ${out.length} of ${count} samples after ${draws} draws`);
    const npc = rng.pick(world.npcs);
    const card = world.cards.get(npc.character)!;
    const first = card.name.split(" ").filter((w) => w !== "Old")[0] ?? card.name;
    const frame = rng.pick(FRAMES)(rng.chance(0.5) ? card.name : first, rng);
    const byWord = rng.chance(0.4);
    const ask = byWord ? ABOUT[rng.int(0, ABOUT.length - 1)].replace("{w}", rng.pick(frame.about)) : rng.pick(frame.ask);
    const wrapper = rng.pick(wrappers).text;
    const say = addNoise(wrapper.replace("{ask}", ask).replace("{npc}", rng.pick([card.name, first])), rng, 1);
    const fact: Fact = { text: frame.text, topic: "self", ask: frame.ask, say: [frame.text], expect: [] };
    // The new fact joins the card's (in place of a random one, so the card keeps its size).
    const facts = [...card.facts];
    facts.splice(rng.int(0, facts.length - 1), 1);
    facts.splice(rng.int(0, facts.length), 0, fact);
    const copy: CharacterCard = { ...card, facts };
    const pose = { position: npc.position, facing: npc.facing };
    const built = assemblePrompt({
      card: copy, scene: world.scene, npcId: npc.id, pose, playerPosition: playerInFront(pose, 1.5 + rng.float() * 1.5),
      others: sceneNpcEntities(world.scene, npc.id), say,
    }, approxTokens, PROMPT_BUDGET);
    // Only when retrieval puts the new fact first for the question.
    if (built.parts.facts[0] !== frame.text) continue;
    const reply = formatReply(restateFact(copy, frame.text, rng), card.defaultMood);
    const sample: Sample = {
      id: `synth-${seed}-${out.length}`, split: "train", npc: npc.id, intent: "fact", template: `synthetic/${byWord ? "word" : "frame"}`,
      mood: card.defaultMood, actions: [], state: "", say, prompt: built.text, completion: renderCompletion(reply), tokens: built.tokens,
    };
    const keys = frame.keys.map(String).filter((k) => !say.toLowerCase().includes(k.toLowerCase()));
    out.push({ sample, fact: frame.text, keys });
    if (out.length % 5000 === 0) {
      const el = (Date.now() - t0) / 1000;
      log(`synthetic facts ${out.length}/${count} (${draws} draws) ${el.toFixed(0)} s, ETA ${((el / out.length) * (count - out.length)).toFixed(0)} s`);
    }
  }
  return out;
}
