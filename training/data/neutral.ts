import type { CharacterCard } from "../../core/character/schema.ts";
import { firstPersonFact } from "../../core/prompt/restate.ts";
import type { World } from "./world.ts";

// A card's neutral twin, for a base model that carries no character's voice (`--voice neutral`,
// training/README.md "A base without voices"). The same person, facts, goods and actions, so
// prompts are the same ones the game builds from the real card; only what the NPC says is plain:
// no lines of the card's own (neutral ones below), plain greetings, each fact said as its text in
// the first person, no tics, no form of address. The voice is then the character pack's to learn.

const NEUTRAL: Record<string, string[]> = {
  introduce: ["I am {name}, the {role}.", "My name is {name}. I am the {role}."],
  farewell: ["Goodbye.", "Farewell."],
  unknown: ["I do not know.", "I cannot say."],
  price: ["The {item} is {price} coins {unit}.", "{price} coins {unit} for the {item}."],
  goods_list: ["I have {list}.", "I sell {list}."],
  haggle_accept: ["{offer} coins. Agreed.", "Agreed, {offer} coins."],
  haggle_counter: ["Not {offer}. {counter} coins.", "{offer} is too low. {counter} coins."],
  haggle_refuse: ["The price is {price} coins.", "No. It is {price} coins."],
  sold: ["Here is your {item}.", "The {item} is yours."],
  directions: ["The {place} is {dist} metres {dir}.", "Go {dir}, about {dist} metres, to the {place}."],
  directions_here: ["You are there.", "It is right here."],
  nearby: ["Near me: {list}.", "I see {list}."],
  what_is: ["That is the {thing}, {dist} metres {dir}.", "The {thing}. It is {dist} metres {dir}."],
  angry: ["How rude.", "That is rude. Stop it."],
  cheerful: ["Thank you, that is kind.", "That is kind of you."],
  afraid: ["Help! We must hide!", "Danger! Run!"],
  sad: ["I am sorry to hear that.", "That is sad news. I am sorry."],
  thanks: ["You are welcome.", "Glad to help."],
  refuse_ooc: ["I know nothing of that.", "I do not know about that."],
  injection: ["I am {name}, nothing else.", "I am {name}, the {role}."],
  are_you_ai: ["I am {name}, the {role}.", "No. I am {name}."],
  emote: ["Very well.", "All right."],
  give: ["Here.", "Here, take it."],
  give_refuse: ["I have no {item}.", "I do not have any {item}."],
  walk: ["Follow me to the {place}.", "This way to the {place}."],
  point: ["There: the {thing}.", "That is the {thing}, there."],
  remember_name: ["You are {name}.", "Your name is {name}."],
  dont_know_name: ["I do not know your name.", "You have not told me your name."],
};
// A card that sells a service mends things for its price; one that does not sends the player away.
const REPAIR = { paid: ["I can mend that for {price} coins.", "That repair is {price} coins."], none: ["I do not do repairs."] };
const GREETINGS = ["Hello.", "Good day.", "Hello. What do you need?"];

/** The card with the same person and knowledge and a plain voice. */
export function neutralVoice(card: CharacterCard): CharacterCard {
  const mends = card.goods.some((g) => g.service);
  return {
    ...card,
    lines: { ...NEUTRAL, repair: mends ? REPAIR.paid : REPAIR.none },
    greetings: GREETINGS,
    facts: card.facts.map((f) => (f.say.length > 0 ? { ...f, say: [firstPersonFact(card, f.text)] } : f)),
    speakingStyle: { ...card.speakingStyle, tics: [], address: [] },
  };
}

/** The world with every card replaced by its plain twin. */
export function neutralWorld(world: World): World {
  return { ...world, cards: new Map([...world.cards].map(([id, c]) => [id, neutralVoice(c)])) };
}
