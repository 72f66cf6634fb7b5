import type { CharacterCard } from "../character/schema.ts";
import { cardLine } from "./card-lines.ts";
import { parseReply } from "./reply.ts";
import type { ReplyCheck } from "./reply-check.ts";

// The mood check: when the combination gate (core/runtime/gate/) moves a character off its default
// mood (an insult: angry; sad news: sad; praise: cheerful; danger near: afraid), the reply's mood tag
// must be the gate's mood. The gate reads the line and the game state and is right more often than
// the mood tag the small model writes (training/README.md, "Moods checked against the gate"); the
// tag is what the client shows and the adapters already lean that way. A reply in another mood is
// written again, and when no try agrees the NPC says the card's own line for that mood (`angry`,
// `cheerful`, `afraid`, `sad`). Calm, and a mood the card does not allow, are never required.

/** The moods a card line answers (calm has none: a calm reply needs no line of its own). */
const MOOD_LINES = new Set(["angry", "cheerful", "afraid", "sad"]);

/** The gate's mood from a mixture's weights: its heaviest mood adapter ("mood-sad" → "sad"), or null without one. */
export function gateMood(weights: Record<string, number> | undefined): string | null {
  let best: string | null = null, w = 0;
  for (const [id, x] of Object.entries(weights ?? {})) if (id.startsWith("mood-") && x > w) [best, w] = [id.slice(5), x];
  return best;
}

/** The mood check for a reply under a mixture of `weights`, or null when the gate keeps the card's default mood. */
export function moodCheckFor(card: CharacterCard, weights: Record<string, number> | undefined, pick = 0): ReplyCheck | null {
  const mood = gateMood(weights);
  if (mood === null || mood === card.defaultMood || !MOOD_LINES.has(mood) || !card.moods.includes(mood as never)) return null;
  return {
    kind: "mood",
    agrees: (reply) => {
      const got = parseReply(reply).mood;
      return got === mood ? [] : [`mood ${got ?? "none"}, the gate's ${mood}`];
    },
    voice: () => `[mood:${mood}] ${cardLine(card, mood, {}, pick)}`,
  };
}
