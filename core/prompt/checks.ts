import type { CharacterCard } from "../character/schema.ts";
import type { Scene } from "../scene/schema.ts";
import { sightReplyCheck } from "../vision/agree.ts";
import { answerInPrompt } from "../vision/ask.ts";
import { actCheckFor } from "./act-check.ts";
import { loreCheckFor, withoutAddress, type LoreCheckOptions } from "./lore-check.ts";
import { moodCheckFor } from "./mood-check.ts";
import { MARKERS } from "./markers.ts";
import { nearCheckFor } from "./near-check.ts";
import type { ReplyCheck } from "./reply-check.ts";
import { goodNamed, readTradeLine } from "./trade-check.ts";
import { mendTypos } from "./typos.ts";

// Which check a reply gets (core/prompt/reply-check.ts). On the sight path (a line about the props
// in view, its prompt holding the sight lines): the sight check (core/vision/agree.ts), except for
// a colour asked alone that no prop in view has but a nearby thing does: then no answer line is
// worked out and the nearby lines answer (near). On the text path: a question the card answers
// (lore, trade), else a request to act (act), else a question about what is around (near), else,
// when the gate moved the character off its default mood, the mood tag (mood). In danger, where the
// NPC answers the danger, only the sight and mood checks.

export interface CheckOptions extends LoreCheckOptions {
  /** The prompt the reply answers (its nearby and sight lines). */
  prompt: string;
  /** The scene the prompt was built from (what a line names). */
  scene: Scene;
  /** The line takes the sight path. */
  bySight: boolean;
  /** Which checks are on: the sight check, and the others (lore, trade, act, near, mood). */
  sight: boolean;
  text: boolean;
  /** The reply's adapter mixture (the gate's weights): its mood for the mood check. */
  weights?: Record<string, number>;
}

/** The check for a reply to `line`, or null when none applies (or the one that would is off). */
export function checkFor(card: CharacterCard, line: string, o: CheckOptions): ReplyCheck | null {
  const danger = /^danger\b/i.test(o.state ?? "");
  const text = o.text && !danger;
  const say = readable(card, line);
  const pick = o.pick ?? 0;
  if (o.bySight) {
    const near = text && answerInPrompt(o.prompt) === null ? nearCheckFor(card, say, o.prompt, o.scene, pick) : null;
    return near ?? (o.sight ? sightReplyCheck(o.prompt, line, card.defaultMood) : null);
  }
  if (!o.text) return null;
  // The text readers read the line with the typos of their words mended ("waht day is the market?").
  const mended = mendTypos(card, line), plain = mended === line ? say : readable(card, mended);
  const answer = danger ? null : loreCheckFor(card, withReferent(card, mended, o.prompt), o) ?? actCheckFor(card, plain, o.prompt, o.scene, pick) ?? nearCheckFor(card, plain, o.prompt, o.scene, pick);
  return answer ?? moodCheckFor(card, o.weights, pick);
}

/** The line as the readers take it: the NPC's name said to it off, and an opening interjection ("Well, where's the gate?": it names nothing). */
function readable(card: CharacterCard, line: string): string {
  return withoutAddress(card, line).replace(/^\s*(?:well|so|oh|ok|okay|um|hmm|right)\s*,\s*/i, "");
}

/**
 * The line with the good it points back to ("I'll take it", "how much is that one?" after the
 * dagger came up): when the line names none of the card's goods, asks about a price, a sale or an
 * offer, and says "it", "one", "that" or "them", the good the latest earlier turn named (the NPC's
 * or the player's) is added for the trade check to read; else the line as it is.
 */
export function withReferent(card: CharacterCard, line: string, prompt: string): string {
  if (goodNamed(card, line) !== undefined || !/\b(?:it|one|that|them|those|these)\b/i.test(line)) return line;
  for (const turn of earlierTurns(prompt)) {
    const good = goodNamed(card, turn);
    if (good === undefined) continue;
    const asked = `${line} (the ${good.name})`;
    const ask = readTradeLine(card, asked);
    return ask !== null && ask.kind !== "goods" ? asked : line;
  }
  return line;
}

/** The texts of the turns before the prompt's last player line, latest first (tags left out). */
function earlierTurns(prompt: string): string[] {
  const last = prompt.lastIndexOf(MARKERS.player);
  const first = prompt.indexOf(MARKERS.player);
  if (last <= first) return [];
  return prompt.slice(first, last).split(/<\|(?:player|npc)\|>/).map((t) => t.replace(/<\|end\|>[\s\S]*$/, "").replace(/\[[a-z_]+:[^\]]*\]/g, "").trim()).filter(Boolean).reverse();
}

