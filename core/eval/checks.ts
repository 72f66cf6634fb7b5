import type { ParsedReply } from "../prompt/reply.ts";

// The checks of an evaluation case, applied to a parsed NPC reply. All case-insensitive.
// contains_any / contains_none match whole words and numbers: "2" does not match "25" and "ale"
// does not match "pale". A needle's own edges decide: an edge that is a letter or digit must meet
// a non-word character (or the end of the text); an edge that is punctuation or space matches as is
// ("def " matches "def foo", "```" matches anywhere). A needle ending in a letter may take a plural
// or possessive ending: "toll" matches "tolls", "hearth" "hearths", "Hilde" "Hilde's".

export interface Checks {
  contains_any?: string[];
  contains_none?: string[];
  /** "kind:arg", e.g. "give:apple" — the reply must carry this action tag. */
  action?: string;
  /** The reply's mood tag must be this mood. */
  mood?: string;
}

export const CHECK_NAMES = ["contains_any", "contains_none", "action", "mood"] as const;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const WORD = /[\p{L}\p{N}_]/u;

/** True when `needle` occurs in `text` as a whole word/number, a word with a plural or possessive ending (case-insensitive). */
export function containsWord(text: string, needle: string): boolean {
  if (needle.length === 0) return false;
  const before = WORD.test(needle[0]) ? "(?<![\\p{L}\\p{N}_])" : "";
  const last = needle[needle.length - 1];
  const ending = /\p{L}/u.test(last) ? "(?:s|es|'s|’s)?" : "";
  const after = WORD.test(last) ? "(?![\\p{L}\\p{N}_])" : "";
  return new RegExp(before + escapeRegExp(needle) + ending + after, "iu").test(text);
}

/** One line per failed check, e.g. `contains_any: none of ["16"]`; empty = passed. */
export function applyChecks(reply: ParsedReply, checks: Checks): string[] {
  const fails: string[] = [];
  const text = reply.text;
  if (checks.contains_any && !checks.contains_any.some((w) => containsWord(text, w))) {
    fails.push(`contains_any: none of ${JSON.stringify(checks.contains_any)}`);
  }
  if (checks.contains_none) {
    const hit = checks.contains_none.filter((w) => containsWord(text, w));
    if (hit.length) fails.push(`contains_none: has ${JSON.stringify(hit)}`);
  }
  if (checks.action) {
    const want = checks.action.toLowerCase();
    const got = reply.actions.map((a) => `${a.kind}:${a.arg}`);
    if (!got.includes(want)) fails.push(`action: want ${want}, got ${got.length ? got.join(" ") : "none"}`);
  }
  if (checks.mood && reply.mood !== checks.mood.toLowerCase()) {
    fails.push(`mood: want ${checks.mood.toLowerCase()}, got ${reply.mood ?? "none"}`);
  }
  return fails;
}
