import { MARKERS, SPECIAL_TOKENS } from "../../core/prompt/markers.ts";
import { CHAT_TEMPLATE } from "../../core/prompt/layout.ts";
import { BYTE_TO_CHAR, PRETOKENIZE, splitSpecial, toByteChars } from "./bytelevel.ts";
import type { TokenizerJson } from "./bpe.ts";

// Byte-level BPE trainer. Ids: the marker tokens first (0..9, core/prompt/markers.ts order), then
// the 256 byte tokens, then one token per learned merge, up to `vocabSize`.
// Training counts pre-tokens (GPT-2 regex over the text between markers), then repeatedly merges
// the most frequent adjacent symbol pair, updating pair counts only in the words that hold it.

/** Adds the pre-token counts of `text` to `counts` (raw pieces; converted to bytes later). */
export function countPieces(text: string, counts: Map<string, number>): void {
  for (const seg of splitSpecial(text)) {
    if (seg.special) continue;
    for (const piece of seg.text.match(PRETOKENIZE) ?? []) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
}

export interface TrainOptions {
  vocabSize: number;
  /** Stop early when the best pair occurs fewer times than this. */
  minFrequency?: number;
  onProgress?: (merges: number, target: number) => void;
}

export function trainBPE(pieces: Map<string, number>, options: TrainOptions): TokenizerJson {
  const nSpecial = SPECIAL_TOKENS.length;
  const target = options.vocabSize - nSpecial - 256;
  if (target < 0) throw new RangeError(`vocabSize must be at least ${nSpecial + 256} (markers + bytes), got ${options.vocabSize}`);
  const minFrequency = options.minFrequency ?? 2;

  // Symbols: id -> string; ids 0..nSpecial-1 markers, then bytes.
  const syms: string[] = [...SPECIAL_TOKENS, ...BYTE_TO_CHAR];
  const symId = new Map<string, number>(syms.map((s, i) => [s, i]));

  // Unique words as symbol sequences, merged by their byte form.
  const wordMap = new Map<string, number>();
  for (const [piece, n] of pieces) {
    const w = toByteChars(piece);
    wordMap.set(w, (wordMap.get(w) ?? 0) + n);
  }
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, n] of wordMap) {
    words.push(Array.from(w, (ch) => symId.get(ch)!));
    freq.push(n);
  }

  const key = (a: number, b: number) => a * 65536 + b;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: number) => {
    const s = words[wi];
    for (let i = 0; i + 1 < s.length; i++) {
      const k = key(s[i], s[i + 1]);
      const c = (pairCount.get(k) ?? 0) + sign * freq[wi];
      if (c === 0) pairCount.delete(k); else pairCount.set(k, c);
      if (sign > 0) {
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1);

  const merges: [string, string][] = [];
  while (merges.length < target) {
    let bestKey = -1;
    let bestCount = 0;
    for (const [k, c] of pairCount) {
      if (c > bestCount || (c === bestCount && k < bestKey)) { bestCount = c; bestKey = k; }
    }
    if (bestKey < 0 || bestCount < minFrequency) break;
    const a = Math.floor(bestKey / 65536);
    const b = bestKey % 65536;
    const merged = syms[a] + syms[b];
    if (symId.has(merged)) { pairCount.delete(bestKey); continue; } // never shadow an existing token
    const id = syms.length;
    syms.push(merged);
    symId.set(merged, id);
    merges.push([syms[a], syms[b]]);
    for (const wi of pairWords.get(bestKey) ?? []) {
      const s = words[wi];
      let has = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) { has = true; break; }
      if (!has) continue;
      addPairs(wi, -1);
      const next: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { next.push(id); i++; } else next.push(s[i]);
      }
      words[wi] = next;
      addPairs(wi, 1);
    }
    pairWords.delete(bestKey);
    pairCount.delete(bestKey);
    if (options.onProgress && merges.length % 250 === 0) options.onProgress(merges.length, target);
  }

  const vocab: Record<string, number> = {};
  syms.forEach((s, i) => { vocab[s] = i; });
  return tokenizerJson(vocab, merges);
}

function tokenizerJson(vocab: Record<string, number>, merges: [string, string][]): TokenizerJson & Record<string, unknown> {
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab,
      // "a b" strings: byte-level symbols never hold a literal space, so the split is unambiguous.
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** tokenizer_config.json: the markers, the stop token and the prompt layout's chat template. */
export function tokenizerConfig(maxLength = 512): Record<string, unknown> {
  return {
    tokenizer_class: "PreTrainedTokenizerFast",
    model_max_length: maxLength,
    bos_token: null,
    eos_token: MARKERS.end,
    pad_token: MARKERS.pad,
    unk_token: null,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    additional_special_tokens: SPECIAL_TOKENS.filter((t) => t !== MARKERS.end && t !== MARKERS.pad),
    added_tokens_decoder: Object.fromEntries(SPECIAL_TOKENS.map((content, id) => [String(id), {
      content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true,
    }])),
    chat_template: CHAT_TEMPLATE,
  };
}
