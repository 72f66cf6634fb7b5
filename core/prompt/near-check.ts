import type { CharacterCard } from "../character/schema.ts";
import type { Scene } from "../scene/schema.ts";
import { cardLine, inMoodOf, listPhrase } from "./card-lines.ts";
import { asksTheWay } from "./lore-check.ts";
import { MARKERS } from "./markers.ts";
import { clearlyMentioned, DIRECTIONS, RELATIVE_PHRASE, type Direction } from "./nearby.ts";
import { parseReply } from "./reply.ts";
import type { ReplyCheck } from "./reply-check.ts";

// The near check: a question about what is around the NPC gets a reply that agrees with the
// prompt's nearby lines (nearby.ts `renderNearbyFact`), the same lines the model reads. Three kinds:
//   - "what's that white thing?": the reply names a nearby thing of that colour (the nearer ones
//     when some are within 12 m);
//   - "where's the well?" / "is the market far?": the reply says the compass direction of the
//     thing the line names (nearby.ts `mentionedObjects`, as the prompt's lines are built), or that
//     the player is there when it is within 2 m (pointing at it or walking there does as well);
//   - "what's around you?" / "what things are near this spot?": the reply names the two nearest
//     things listed (the player aside); the card line said when no try does lists the first four.
// When no try agrees, the NPC says the card's own `what_is`, `directions` or `nearby` line with the
// answer in it.
// Pointing at a thing the player names is an action (act-check.ts).

/** One nearby line of a prompt, read back. */
export interface NearbyLine {
  id: string;
  name: string;
  /** "" when the line names none. */
  colour: string;
  /** Metres (0 for "here"). */
  distance: number;
  direction: Direction | null;
  /** "north-east", … ("" for "here"). */
  compass: string;
}

// `- id: name[, colour], here|N m direction (compass)[, in sight on the left]` (core/vision/seen.ts marks the props in view).
const LINE = /^- ([^\s:]+): (.+?), (here|(\d+) m ([a-z-]+) \(([a-z-]+)\))(?:, in sight on the [a-z -]+)?$/;

/** The nearby lines of a prompt (its `<|near|>` section; the sight lines and the summary skipped). */
export function nearbyLinesOf(prompt: string): NearbyLine[] {
  const at = prompt.lastIndexOf(MARKERS.near, prompt.indexOf(MARKERS.player) >= 0 ? prompt.indexOf(MARKERS.player) : prompt.length);
  if (at < 0) return [];
  const out: NearbyLine[] = [];
  for (const raw of prompt.slice(at + MARKERS.near.length).split("\n")) {
    if (!raw.startsWith("- ")) break;
    const m = LINE.exec(raw.trim());
    if (!m) continue;
    const [name, colour = ""] = m[2].split(/, /);
    const dir = m[5] as Direction | undefined;
    out.push({ id: m[1], name, colour, distance: m[3] === "here" ? 0 : Number(m[4]), direction: dir && (DIRECTIONS as readonly string[]).includes(dir) ? dir : null, compass: m[6] ?? "" });
  }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Does `text` name the thing (its whole name, a plural allowed; "the" and case aside)? */
export function namesThing(text: string, name: string): boolean {
  const words = name.toLowerCase().split(/\s+/).filter(Boolean).map(escape);
  if (words.length === 0) return false;
  return new RegExp(`(?<![a-z])${words.join("\\s+")}(?:s|es|'s)?(?![a-z])`, "i").test(text);
}

// "What's around you?", "what things are near this spot?", "describe your surroundings", "look
// around, what's here?", "anything interesting nearby?". Not the way somewhere ("is the well
// near?"), nor what the NPC sees of a kind or colour (the sight path and the colour question).
const HERE = "(?:you|u|ya|here|us|this\\s+(?:spot|place)|where\\s+you\\s+stand)";
const AROUND = new RegExp([
  // "what's next to you?", "which objects are beside you?", "anything interesting near you", "what is lying about here"
  `\\b(?:what|wat|which\\s+(?:objects|things)|anything|something|everything)\\b[^?.!]*?\\b(?:around|near|nearby|beside|next\\s+to|close\\s+(?:by|to)|(?:standing|lying|sitting)\\s+(?:around|about))\\s+${HERE}\\b`,
  // "what's around?", "anything nearby?"
  "\\b(?:what|anything|something)\\b[^?.!]*\\b(?:around|nearby|close\\s+by)\\s*[?!.]*$",
  "\\bw(?:h)?at\\s+(?:do|can)\\s+(?:you|u)\\s+(?:see|notice|make\\s+out|spot)\\b(?!\\s+(?:in|of|when|if|about))",
  "\\b(?:list|name)\\s+(?:all\\s+)?(?:the\\s+)?(?:things|objects|everything)\\b", "\\btell\\s+me\\s+what(?:'s|s|\\s+is|\\s+are)\\s+(?:around|near|nearby|close\\s+by)\\b",
  "\\b(?:describe|tell\\s+me\\s+about|list|name)\\s+(?:your|the)\\s+surroundings\\b",
  "\\b(?:look|glance)\\s+around\\b", "\\b(?:name|list)\\s+everything\\b", "\\bwhat\\s+have\\s+we\\s+got\\s+(?:here|around)\\b",
].join("|"), "i");

// "What's going on around here?" asks for news (a rumour: the lore check), not the surroundings.
const NEWS = /\b(?:happen\w*|going\s+on|news|new|odd|unusual|strange|word|gossip|rumou?rs?)\b/i;

/** Does the line ask what is around the NPC? */
export function asksWhatIsAround(say: string): boolean {
  return AROUND.test(say) && !NEWS.test(say);
}

const COLOUR_WORDS = ["dark brown", "black", "grey", "gray", "white", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown"];
const COLOUR_ALT = COLOUR_WORDS.map((c) => c.replace(" ", "\\s+")).join("|");
// "that white thing" (and "thig", "thingy"), "the red one", "something blue", "what thing around here is dark brown?"
const COLOUR_THING = new RegExp(`\\b(${COLOUR_ALT})\\s+(?:th(?:i|n|g)[a-z]{0,3}|one|object|shape|stuff|item)\\b|\\bsomething\\s+(${COLOUR_ALT})\\b|\\b(?:what|which)\\s+(?:thing|one|object)s?\\b[^?.!]*?\\b(?:is|are)\\s+(${COLOUR_ALT})\\b`, "i");

/** The colour of "that white thing" a line asks about ("grey" for "gray"), or null. */
export function colourThingAsked(say: string): string | null {
  const m = COLOUR_THING.exec(say);
  const c = m && (m[1] ?? m[2] ?? m[3]);
  if (!c) return null;
  const colour = c.toLowerCase().replace(/\s+/g, " ");
  return colour === "gray" ? "grey" : colour;
}

/** The listed thing a line asks the way to: the one scene object it names, else a listed villager it names. */
function placeNamed(say: string, lines: NearbyLine[], scene: Scene): NearbyLine | undefined {
  const byId = new Map(lines.map((l) => [l.id, l]));
  const obj = clearlyMentioned(scene, say);
  if (obj) return byId.get(obj.id);
  // A villager by name ("where's Mira?"): a capitalised word of a listed name, not "The" or "Old".
  return lines.find((l) => l.name.split(/\s+/).some((w) => /^[A-Z][a-z]{2,}/.test(w) && !/^(?:The|Old)$/.test(w) && namesThing(say, w)));
}

/** "the well", "The Rusty Tankard", "Mira Vell". */
const theName = (name: string) => (/^[A-Z]/.test(name) ? name : `the ${name}`);


/**
 * The near check for a reply to `say` given the prompt it answers (core/prompt/reply-check.ts), or
 * null when the line asks neither what is around nor what a coloured thing is, or the prompt lists
 * nothing that answers it. `pick` chooses the card line said when no reply agrees.
 */
export function nearCheckFor(card: CharacterCard, say: string, prompt: string, scene: Scene, pick = 0): ReplyCheck | null {
  const lines = nearbyLinesOf(prompt).filter((l) => l.id !== "player");
  if (lines.length === 0) return null;
  const colour = colourThingAsked(say);
  if (colour !== null) {
    const ofColour = lines.filter((l) => l.colour === colour || namesThing(l.name, colour));
    // "That white thing" is one in view of them both: the nearer ones when any are within 12 m.
    const near = ofColour.filter((l) => l.distance <= 12);
    const answers = (near.length > 0 ? near : ofColour).sort((a, b) => a.distance - b.distance);
    if (answers.length === 0) return null;
    const first = answers[0];
    return {
      kind: "near",
      agrees: (reply) => (answers.some((l) => namesThing(parseReply(reply).text, l.name)) ? [] : [`names no ${colour} thing near (${answers.map((l) => l.name).join(", ")})`]),
      voice: (least) => inMoodOf(least, cardLine(card, "what_is", {
        thing: first.name, dist: Math.max(1, Math.round(first.distance)), dir: first.direction ? RELATIVE_PHRASE[first.direction] : "here",
      }, pick), card.defaultMood),
    };
  }
  const place = asksTheWay(say) ? placeNamed(say, lines, scene) : undefined;
  if (place) {
    // Within 2 m the player is there: "here" or "1 m" say so, "2 m" (1.5 to 2.5) may go either way.
    const here = place.distance <= 2;
    const there = place.distance < 2;
    const compass = place.compass && place.distance >= 2 ? new RegExp(`\\b${place.compass.replace("-", "[- ]?")}\\b`, "i") : null;
    return {
      kind: "near",
      agrees: (reply) => {
        const { text, actions } = parseReply(reply);
        // Pointing at it or leading the way there answers "where is it?" as well.
        const shown = actions.some((a) => (a.kind === "point_at" || a.kind === "walk_to") && a.arg === place.id);
        return shown || (compass !== null && compass.test(text)) || (here && /\b(?:here|at it|there|upon it)\b/i.test(text))
          ? [] : [`does not say where ${theName(place.name)} is (${there ? "here" : place.compass})`];
      },
      voice: (least) => inMoodOf(least, there
        ? cardLine(card, "directions_here", {}, pick)
        : cardLine(card, "directions", { place: place.name, dir: place.compass, dist: Math.max(1, Math.round(place.distance)) }, pick), card.defaultMood),
    };
  }
  if (!asksWhatIsAround(say)) return null;
  // Nearest first: a thing the line happens to name ("well, what's around here?") is listed first, not near.
  const first4 = [...lines].sort((a, b) => a.distance - b.distance).slice(0, 4);
  const nearest = first4.slice(0, 2);
  return {
    kind: "near",
    agrees: (reply) => {
      const text = parseReply(reply).text;
      const missed = nearest.filter((l) => !namesThing(text, l.name));
      return missed.length === 0 ? [] : [`does not name the nearest ${missed.map((l) => l.name).join(" and ")}`];
    },
    voice: (least) => inMoodOf(least, cardLine(card, "nearby", { list: listPhrase(first4.map((l) => theName(l.name))) }, pick), card.defaultMood),
  };
}
