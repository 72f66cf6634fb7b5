// Line layout for speech bubbles, independent of any canvas: `measure` gives a string's width
// in pixels (a canvas context's measureText in the browser, a character count in tests).

export type Measure = (s: string) => number;

/**
 * Greedy word wrap into lines no wider than `width`. A word wider than a line on its own is cut
 * into pieces that fit (long names, URLs, a run of letters with no spaces).
 */
export function wrapText(text: string, measure: Measure, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (measure(next) <= width) { line = next; continue; }
    if (line) lines.push(line);
    line = "";
    let rest = word;
    while (measure(rest) > width) {
      let cut = 1;
      while (cut < rest.length && measure(rest.slice(0, cut + 1)) <= width) cut++;
      lines.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    line = rest;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * At most `max` of the wrapped lines. `keep: "end"` (a line still streaming) shows the newest
 * lines and marks the cut with a leading "…"; `keep: "start"` shows the first lines and ends
 * the last one with "…".
 */
export function fitLines(lines: string[], max: number, keep: "start" | "end"): string[] {
  if (lines.length <= max) return lines;
  if (keep === "end") {
    const out = lines.slice(lines.length - max);
    out[0] = `…${out[0]}`;
    return out;
  }
  const out = lines.slice(0, max);
  out[max - 1] = `${out[max - 1]}…`;
  return out;
}
