import { SPECIAL_TOKENS } from "../../core/prompt/markers.ts";

// Byte-level pieces shared by the trainer and the encoder, matching Hugging Face's ByteLevel
// pre-tokenizer (use_regex true, add_prefix_space false) and its byte <-> unicode table.

/** GPT-2 pre-tokenization: contractions, letter runs, digit runs, other runs, spaces. */
export const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Byte value -> printable unicode character (the GPT-2 table). */
export const BYTE_TO_CHAR: string[] = (() => {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = keep.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return table;
})();

export const CHAR_TO_BYTE = new Map<string, number>(BYTE_TO_CHAR.map((c, b) => [c, b]));

const encoder = new TextEncoder();

/** A pre-token's UTF-8 bytes as byte-level characters. */
export function toByteChars(piece: string): string {
  let out = "";
  for (const b of encoder.encode(piece)) out += BYTE_TO_CHAR[b];
  return out;
}

const SPECIAL_RE = new RegExp(SPECIAL_TOKENS.map((t) => t.replace(/[|]/g, "\\|")).join("|"), "g");

/** Splits text into [special token | plain text] segments, in order, dropping empty ones. */
export function splitSpecial(text: string): { special: boolean; text: string }[] {
  const out: { special: boolean; text: string }[] = [];
  let last = 0;
  for (const m of text.matchAll(SPECIAL_RE)) {
    if (m.index! > last) out.push({ special: false, text: text.slice(last, m.index) });
    out.push({ special: true, text: m[0] });
    last = m.index! + m[0].length;
  }
  if (last < text.length) out.push({ special: false, text: text.slice(last) });
  return out;
}

/** Plain text -> byte-level pre-tokens. */
export function pretokenize(text: string): string[] {
  return (text.match(PRETOKENIZE) ?? []).map(toByteChars);
}
