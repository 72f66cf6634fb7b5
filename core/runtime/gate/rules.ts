import type { GameState } from "./features.ts";
import moodWords from "./mood-words.json" with { type: "json" };

// The fallback gate: a mood from what the player said and what is going on. First match wins:
//   threat ≥ 0.5                          → afraid
//   insults / threats in the line         → angry
//   standing ≤ -0.4                       → angry
//   grief words (dead, lost, funeral…)    → sad
//   praise of the NPC, or standing ≥ 0.6  → cheerful
//   otherwise                             → calm
// Only moods the card allows count (ids "mood-<name>"); when the chosen one is not allowed the
// character stays calm (or gets no mood adapter when calm is not allowed either).

/** The word cues (mood-words.json, which the gate trainer reads too): mood → its regular expression. */
export const MOOD_WORDS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(moodWords as Record<string, string>).filter(([k]) => !k.startsWith("_")),
);

const WORDS = {
  angry: new RegExp(MOOD_WORDS.angry, "i"),
  sad: new RegExp(MOOD_WORDS.sad, "i"),
  cheerful: new RegExp(MOOD_WORDS.cheerful, "i"),
};

export function ruleMoods(text: string, s: GameState, allowed: string[]): { weights: Record<string, number>; reason: string } {
  let mood = "calm", reason = "nothing notable";
  if (s.threat >= 0.5) [mood, reason] = ["afraid", `threat ${s.threat}`];
  else if (WORDS.angry.test(text)) [mood, reason] = ["angry", "insult in the line"];
  else if (s.standing <= -0.4) [mood, reason] = ["angry", `standing ${s.standing}`];
  else if (WORDS.sad.test(text)) [mood, reason] = ["sad", "grief in the line"];
  else if (WORDS.cheerful.test(text)) [mood, reason] = ["cheerful", "praise in the line"];
  else if (s.standing >= 0.6) [mood, reason] = ["cheerful", `standing ${s.standing}`];
  let id = `mood-${mood}`;
  if (!allowed.includes(id)) {
    reason += ` (mood-${mood} not allowed)`;
    id = "mood-calm";
  }
  return allowed.includes(id) ? { weights: { [id]: 1 }, reason } : { weights: {}, reason: reason + ", no mood adapter" };
}
