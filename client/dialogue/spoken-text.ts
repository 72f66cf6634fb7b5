// What a speech bubble may show of an NPC's line. The server strips tags before streaming, so
// this is a second line of defence: a tag or special token that slips through (or arrives split
// over several deltas) never reaches the screen.

/** A whole tag: "[mood:calm]", "[give:horseshoe]", "[point_at : well]". */
const TAG = /\[[a-z_]+\s*:\s*[^\]\s]*\s*\]/gi;
/** The start of a tag still being streamed at the end of the text: "[", "[emo", "[give:horse". */
const OPEN_TAG = /\[[a-z_]*(\s*:\s*[^\]\s]*)?\s*$/i;
/** Model control tokens such as "<|end|>"; everything after an end token is not speech. */
const END = /<\|end\|>[\s\S]*$/;
const SPECIAL = /<\|[a-z_]+\|>/g;
const OPEN_SPECIAL = /<(\|[a-z_]*)?$/;

/**
 * Display text of an NPC line. `streaming`: the text may stop in the middle of a tag or token,
 * so a trailing fragment that could still become one is held back until it completes.
 */
export function spokenText(raw: string, streaming = false): string {
  let s = raw.replace(END, "").replace(SPECIAL, " ").replace(TAG, " ");
  if (streaming) s = s.replace(OPEN_TAG, "").replace(OPEN_SPECIAL, "");
  return s.replace(/\s+/g, " ").replace(/\s+([,.!?;:])/g, "$1").trim();
}
