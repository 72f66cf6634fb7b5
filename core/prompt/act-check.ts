import type { CharacterCard } from "../character/schema.ts";
import type { Scene } from "../scene/schema.ts";
import { cardLine, inMoodOf } from "./card-lines.ts";
import { nearbyLinesOf } from "./near-check.ts";
import { clearlyMentioned } from "./nearby.ts";
import { asksToFaceThem, pointTail, requestedEmote, tailOf, WALK } from "./requests.ts";
import { parseReply } from "./reply.ts";
import type { ReplyCheck } from "./reply-check.ts";

// The act check: a request to act that the card allows gets a reply carrying the action's tag.
// Asked to wave (an emote of the card's), to look at the player, to walk somewhere the card may
// walk to, or to point at a thing the prompt lists, the small model often answers in words alone
// ("Aye.") or with another action (a walk for "which one is the drying rack?"). As with the other
// checks (reply-check.ts), such a reply is written again, and when no try carries the tag the NPC
// says the card's own line for it (`emote`, `walk`, `point`) with the tag.

/** An action a reply must carry, and the card line said with it when none does. */
interface Wanted {
  tag: string;
  /** Other tags that do as well (another object of the same name). */
  also: string[];
  line: () => string;
}

/**
 * The act check for a reply to `say` (core/prompt/reply-check.ts), or null when the line asks for
 * no action the card allows. `prompt` is the prompt the reply answers (a thing to point at or walk
 * to must be among its nearby lines, so the model can name its id); `scene` resolves what the line
 * names (nearby.ts `clearlyMentioned`: a thing two far-apart objects answer to is not checked).
 */
export function actCheckFor(card: CharacterCard, say: string, prompt: string, scene: Scene, pick = 0): ReplyCheck | null {
  const wanted: Wanted[] = [];
  const listed = new Set(nearbyLinesOf(prompt).map((l) => l.id));
  const named = (tail: string | null) => {
    const o = tail === null ? undefined : clearlyMentioned(scene, tail);
    return o && listed.has(o.id) ? o : undefined;
  };
  const sameName = (id: string, name: string) => scene.objects.filter((o) => o.name === name && o.id !== id).map((o) => o.id);
  const walkTo = named(tailOf(WALK, say));
  if (walkTo && card.actions.walkTo.includes(walkTo.id)) {
    wanted.push({ tag: `walk_to:${walkTo.id}`, also: [], line: () => cardLine(card, "walk", { place: walkTo.name }, pick) });
  } else if (!walkTo) {
    const target = named(pointTail(say));
    if (target) wanted.push({ tag: `point_at:${target.id}`, also: sameName(target.id, target.name).map((id) => `point_at:${id}`), line: () => cardLine(card, "point", { thing: target.name }, pick) });
  }
  const emote = requestedEmote(card, say);
  if (emote !== null) wanted.push({ tag: `emote:${emote}`, also: [], line: () => cardLine(card, "emote", {}, pick) });
  if (asksToFaceThem(say)) wanted.push({ tag: "turn_to:player", also: [], line: () => cardLine(card, "emote", {}, pick) });
  if (wanted.length === 0) return null;
  return {
    kind: "act",
    agrees: (reply) => {
      const tags = new Set(parseReply(reply).actions.map((a) => `${a.kind}:${a.arg}`));
      return wanted.filter((w) => !tags.has(w.tag) && !w.also.some((t) => tags.has(t))).map((w) => `no [${w.tag}]`);
    },
    voice: (least) => inMoodOf(least, `${wanted[0].line()} ${wanted.map((w) => `[${w.tag}]`).join(" ")}`, card.defaultMood),
  };
}
