import { MOODS, type Mood } from "../character/schema.ts";

// NPC reply lines: text with inline tags. A reply starts with a mood tag and may carry action
// tags anywhere: "[mood:cheerful] Here you are! [give:apple]". Tag grammar: "[" kind ":" arg "]",
// kind one of ACTION_KINDS or "mood", arg lowercase letters, digits, "_" and "-".

export const ACTION_KINDS = ["emote", "give", "walk_to", "point_at", "turn_to"] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface Action {
  kind: ActionKind;
  arg: string;
}

export interface ParsedReply {
  /** The spoken text, tags removed, whitespace collapsed. */
  text: string;
  actions: Action[];
  /** The first valid mood tag, or null when there is none. */
  mood: Mood | null;
  /** Tags that looked like tags but are not valid ("[fly:moon]", "[mood:giddy]"), for logging. */
  invalid: string[];
}

const TAG = /\[([a-z_]+)\s*:\s*([^\]\s]*)\s*\]/gi;
const ARG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function parseReply(raw: string): ParsedReply {
  const actions: Action[] = [];
  const invalid: string[] = [];
  let mood: Mood | null = null;
  const stripped = raw.replace(/<\|end\|>[\s\S]*$/, "").replace(/<\|[a-z_]+\|>/g, "");
  const text = stripped.replace(TAG, (whole, kindRaw: string, argRaw: string) => {
    const kind = kindRaw.toLowerCase();
    const arg = argRaw.toLowerCase();
    if (kind === "mood" && (MOODS as readonly string[]).includes(arg)) {
      if (mood === null) mood = arg as Mood;
    } else if ((ACTION_KINDS as readonly string[]).includes(kind) && ARG.test(arg)) {
      actions.push({ kind: kind as ActionKind, arg });
    } else {
      invalid.push(whole);
    }
    return " ";
  });
  return { text: text.replace(/\s+/g, " ").replace(/\s+([,.!?;:])/g, "$1").trim(), actions, mood, invalid };
}

/** Writes a reply line in the tag grammar: mood tag first, action tags last. */
export function formatReply(text: string, mood: Mood, actions: Action[] = []): string {
  const tags = actions.map((a) => `[${a.kind}:${a.arg}]`).join(" ");
  return `[mood:${mood}] ${text.trim()}${tags ? " " + tags : ""}`;
}
