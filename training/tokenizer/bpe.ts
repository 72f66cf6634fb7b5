import { SPECIAL_TOKENS } from "../../core/prompt/markers.ts";
import { BYTE_TO_CHAR, CHAR_TO_BYTE, pretokenize, splitSpecial } from "./bytelevel.ts";

// Our own byte-level BPE encoder/decoder over a Hugging Face tokenizer.json (model type BPE,
// ByteLevel pre-tokenizer and decoder, marker tokens as added_tokens). Merges apply lowest rank
// first, leftmost first among equal ranks, as the Hugging Face implementations do.

export interface TokenizerJson {
  added_tokens: { id: number; content: string; special: boolean }[];
  model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[]; [k: string]: unknown };
  pre_tokenizer: { type: string; [k: string]: unknown } | null;
  decoder: { type: string; [k: string]: unknown } | null;
}

export class ByteLevelBPE {
  readonly vocab: Map<string, number>;
  readonly idToToken: string[];
  private readonly ranks = new Map<string, number>();
  private readonly special = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();

  constructor(json: TokenizerJson) {
    if (json.model?.type !== "BPE") throw new Error(`tokenizer.json: model.type must be "BPE", got ${JSON.stringify(json.model?.type)}`);
    if (json.pre_tokenizer?.type !== "ByteLevel") throw new Error(`tokenizer.json: pre_tokenizer.type must be "ByteLevel", got ${JSON.stringify(json.pre_tokenizer?.type)}`);
    this.vocab = new Map(Object.entries(json.model.vocab));
    this.idToToken = [];
    for (const [t, id] of this.vocab) this.idToToken[id] = t;
    json.model.merges.forEach((m, i) => {
      const [a, b] = typeof m === "string" ? m.split(" ") : m;
      this.ranks.set(a + " " + b, i);
    });
    for (const t of json.added_tokens) {
      this.special.set(t.content, t.id);
      this.idToToken[t.id] = t.content;
    }
    for (const t of SPECIAL_TOKENS) if (!this.special.has(t)) throw new Error(`tokenizer.json: marker ${t} is missing from added_tokens`);
  }

  get size(): number {
    return this.idToToken.length;
  }

  /** BPE of one byte-level pre-token. */
  private word(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const parts = Array.from(piece);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.ranks.get(parts[i] + " " + parts[i + 1]);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      parts.splice(best, 2, parts[best] + parts[best + 1]);
    }
    const ids = parts.map((p) => {
      const id = this.vocab.get(p);
      if (id === undefined) throw new Error(`BPE produced "${p}", which is not in the vocabulary`);
      return id;
    });
    if (this.cache.size < 100_000) this.cache.set(piece, ids);
    return ids;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const seg of splitSpecial(text)) {
      if (seg.special) ids.push(this.special.get(seg.text)!);
      else for (const piece of pretokenize(seg.text)) for (const id of this.word(piece)) ids.push(id);
    }
    return ids;
  }

  decode(ids: number[]): string {
    let out = "";
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) out += new TextDecoder().decode(new Uint8Array(bytes));
      bytes = [];
    };
    for (const id of ids) {
      const tok = this.idToToken[id];
      if (tok === undefined) throw new Error(`decode: id ${id} is outside the vocabulary (0..${this.idToToken.length - 1})`);
      if (this.special.has(tok)) { flush(); out += tok; continue; }
      for (const ch of tok) bytes.push(CHAR_TO_BYTE.get(ch)!);
    }
    flush();
    return out;
  }
}

export { BYTE_TO_CHAR };
