import { MOODS } from "../../core/character/schema.ts";

// How a mood looks on screen: a colour and a symbol beside the word. Symbols come from the
// plain Unicode symbol blocks (present in common fonts such as DejaVu), not colour emoji.

export type MoodStyle = { word: string; colour: string; symbol: string };

const STYLES: Record<(typeof MOODS)[number], Omit<MoodStyle, "word">> = {
  calm: { colour: "#7fb7d9", symbol: "☺" },
  cheerful: { colour: "#f2c94c", symbol: "☀" },
  angry: { colour: "#e0523f", symbol: "⚡" },
  afraid: { colour: "#b48ee0", symbol: "‼" },
  sad: { colour: "#8a9bb0", symbol: "☹" },
};

/** Style of any mood string; an unknown mood keeps its (trimmed, shortened) word in grey. */
export function moodStyle(mood: string): MoodStyle {
  const word = mood.trim().toLowerCase().slice(0, 16);
  const known = (STYLES as Record<string, Omit<MoodStyle, "word">>)[word];
  return known ? { word, ...known } : { word: word || "?", colour: "#a0a0a0", symbol: "•" };
}
