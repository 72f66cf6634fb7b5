import type { CharacterCard } from "../character/schema.ts";

// Reading a player's line as a request to act (core/prompt/act-check.ts checks the reply to one).
// What counts as a request: the action's words at the start of a clause (or after "and", "then"), after "please", "go on",
// "now" and the like ("go on, wave"), or after a request frame ("can you", "could you", "let's see
// you", "show me how you", "I bet you can't", "I want you to", "how about a"), for an emote;
// "look at me", "face me", "turn around", "over here" for turning; "take me to", "walk me to",
// "show me the way to", "let's go to" for walking; "which one is the", "point at", "show me the"
// for pointing. Never under "don't" and the like, and an action the card does not allow is left to
// the model (it may refuse in its own voice).

/** How the data engine asks for each emote of the village's cards (training/data/situations.ts). */
export const EMOTE_PHRASES: Record<string, string> = {
  wave: "wave", nod: "nod", bow: "bow", laugh: "laugh", shrug: "shrug", salute: "salute", clap: "clap",
  smile: "smile", hammer: "strike the anvil", curtsy: "curtsy", hug: "give me a hug", wipe_hands: "wipe your hands",
  sniff_herbs: "smell the herbs", shake_head: "shake your head", cross_arms: "cross your arms",
};

// Other words players use for an emote, besides its id's own ("cross_arms": "cross your arms").
const EMOTE_WORDS: Record<string, string[]> = {
  wave: ["wave (?:hello|goodbye|bye|at (?:me|us)|to (?:me|us))", "give (?:me|us) a wave"],
  nod: ["nod your head", "give (?:me|us) a nod"],
  bow: ["take a bow", "give (?:me|us) a bow"],
  laugh: ["have a laugh", "give (?:me|us) a laugh"],
  clap: ["clap your hands", "applaud"],
  smile: ["give (?:me|us) a smile", "smile at me"],
  hammer: ["(?:strike|hit|bang|pound|ring) (?:the|your|that) anvil", "hammer (?:the|your|that|some|something|away|at)(?: \\w+)?"],
  hug: ["give (?:me|us) a hug", "hug me", "hug"],
  curtsy: ["curtsey", "do a curtsy"],
  sniff_herbs: ["(?:smell|sniff) (?:the|your|those|some) herbs"],
  salute: ["give (?:me|us) a salute"],
  shrug: ["shrug your shoulders"],
  cross_arms: ["fold your arms"],
};

/** The phrases (regex sources) that ask for `emote`: its id's words with "your"/"the" allowed between, and its other words. */
function emotePhrases(emote: string): string[] {
  const [verb, ...rest] = emote.toLowerCase().split(/[_\s-]+/);
  const own = rest.length === 0 ? verb : `${verb} (?:your |the |my |those |some )?${rest.join(" ")}`;
  return [own, ...(EMOTE_WORDS[emote] ?? [])];
}

// Clause openers that keep a request a request ("go on, wave", "please, just nod").
const OPENERS = "(?:(?:please|pls|plz|go on|come on|now|just|ok|okay|so|and|hey|oi|quick|quickly|then|alright|right|oh|well)[\\s,!]+)*";
// Frames a request may open with ("can you bow?", "let's see you laugh").
const FRAMES = [
  "(?:can|could|would|will|wil|wont|won't)\\s+(?:you|u|ya|ye)\\s+(?:(?:please|just|maybe|kindly|try\\s+to|try\\s+and)\\s+)*",
  "(?:let's|lets|let\\s+me)\\s+see\\s+(?:you\\s+)?", "show\\s+me\\s+how\\s+(?:you|u)\\s+",
  "(?:i\\s+)?(?:bet|betcha)\\s+(?:you|u)\\s+(?:can't|cant|cannot|won't|wont|couldn't)\\s+",
  "(?:i\\s+)?(?:want|need|would\\s+like|'d\\s+like|d\\s+like)\\s+(?:you|u)\\s+to\\s+", "(?:i\\s+)?(?:wanna|want\\s+to)\\s+see\\s+(?:you|u)\\s+",
  "why\\s+(?:don't|dont)\\s+(?:you|u)\\s+", "try\\s+(?:to|and)\\s+", "how\\s+about\\s+(?:a|an)\\s+", "do\\s+(?:a|an)\\s+(?:little\\s+)?",
].join("|");

// Each phrase's compiled request expression, built once.
const REQUEST_RE = new Map<string, RegExp>();

/** Does a clause of `say` ask for `phrase` (a regex source) as a request? Held letters are read both ways ("loook at me", "faace me"). */
function requested(say: string, phrase: string): boolean {
  let re = REQUEST_RE.get(phrase);
  if (re === undefined) REQUEST_RE.set(phrase, (re = new RegExp(`(?:^|[,.;:!?]\\s*|\\s(?:and|then|and then)\\s+)${OPENERS}(?:${FRAMES})?(?:${phrase})(?![a-z'])`, "i")));
  const line = say.toLowerCase().replace(/\s+/g, " ").trim();
  return re.test(line) || re.test(line.replace(/([a-z])\1{2,}/g, "$1$1")) || re.test(line.replace(/([a-z])\1+/g, "$1"));
}

/** The card's emote a line asks for, if any ("go on, wave" → "wave" when the card allows waving). */
export function requestedEmote(card: CharacterCard, say: string): string | null {
  for (const e of card.actions.emotes) if (emotePhrases(e).some((p) => requested(say, p))) return e;
  return null;
}

const TURN_PHRASES = ["look (?:at|to|towards?) me", "face me", "(?:turn|spin) (?:a)?round", "turn (?:to|towards?) (?:me|face me)", "(?:look|turn) this way", "turn to face me",
  "turn (?:my|our) way", "this way(?=\\s*(?:[,.!?]|$))", "over here", "eyes (?:on me|over here|here)",
  // The player saying where they stand: "i'm over here", "i'm behind you", "i am to your left".
  "(?:i'm|im|i am) (?:over here|right here|behind you|beside you|next to you|to your (?:left|right))"];

/** Does the line ask the NPC to turn to the player ("look at me", "hey, over here!")? */
export function asksToFaceThem(say: string): boolean {
  return TURN_PHRASES.some((p) => requested(say, p));
}

export const WALK = /\b(?:(?:take|walk|lead|guide|escort|bring)\s+(?:me|us)\s+(?:(?:over|down|up|back)\s+)?(?:to|towards?|as\s+far\s+as)|walk\s+with\s+(?:me|us)\s+to|show\s+(?:me|us)\s+the\s+way\s+to|(?:come|go)\s+with\s+(?:me|us)\s+to|(?:let'?s|let\s+us|shall\s+we)\s+(?:go|walk|head)\s+(?:over\s+|down\s+)?to)\s+(.+)$/i;
// "Which one is the grindstone?", "point at the well", "gesture toward the cart", "indicate the roof",
// "show me the beehive", "I can't see the crate. Where?", "help me find the counter".
export const POINT = /\b(?:(?:which\s+(?:one|thing)\s+is|which\s+is)(?=\s+(?:the|a|an|that|your)\b)|point\s+(?:at|to|out|towards?)|(?:gesture|motion)\s+(?:at|to|toward|towards)|indicate|show\s+(?:me|us)(?!\s+(?:the\s+way|how|your|around)\b)(?:\s+where)?|(?:can't|cant|cannot)\s+(?:see|spot|find)|help\s+me\s+(?:find|spot|see))\s+(.+)$/i;
/** "Can you point it out?" after the thing is named: the whole line names it. */
const POINT_IT_OUT = /\b(?:point|gesture)\s+(?:it|them|that|this)\s+out\b|\bpoint\s+(?:at|to)\s+(?:it|them|that)\b/i;
/** Does the line ask the NPC to point something out ("which one is the grindstone?", "point at the well")? */
export function asksToPoint(say: string): boolean {
  return pointTail(say) !== null;
}

/** What a line asks to be pointed at: the words after the request, or the whole line for "point it out". */
export function pointTail(say: string): string | null {
  if (POINT_IT_OUT.test(say) && !NEGATED.test(say.slice(0, say.search(POINT_IT_OUT)))) return say;
  return tailOf(POINT, say);
}

const NEGATED = /\b(?:don't|dont|do\s+not|never|no\s+need\s+to|stop)\s+(?:\w+\s+)?$/i;

/** What a line asks to be walked to or shown: the words after the request, unless it is negated. */
export function tailOf(re: RegExp, say: string): string | null {
  const m = re.exec(say);
  if (!m || NEGATED.test(say.slice(0, m.index))) return null;
  return m[1];
}
