// Builds a small byte-level BPE tokenizer.json (GPT-2 style) in memory for tests: 256 byte tokens,
// a few real merges ("he", "ll", "Ġt", "Ġthe"...), filler merges to reach an exact vocabulary size,
// and special tokens for a ChatML-style template. Multi-byte characters (é, emoji) are left unmerged
// on purpose, so they span several tokens like they do in real tokenizers.

/** GPT-2's byte → printable character table (bytes_to_unicode). */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return table;
}

export const SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface ByteBpe {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** vocabSize counts bytes + merges + special tokens; must be ≥ 256 + 4 real merges + specials. */
export function makeByteBpeTokenizer(vocabSize = 512): ByteBpe {
  const b2u = bytesToUnicode();
  const vocab: Record<string, number> = {};
  b2u.forEach((ch, i) => (vocab[ch] = i));
  const merges: string[] = [];
  const addMerge = (a: string, b: string) => {
    const tok = a + b;
    if (tok in vocab) return;
    vocab[tok] = Object.keys(vocab).length;
    merges.push(`${a} ${b}`);
  };
  const sp = b2u[0x20]; // "Ġ"
  addMerge("h", "e");
  addMerge("l", "l");
  addMerge(sp, "t");
  addMerge(sp + "t", "he");
  addMerge("o", "r");
  addMerge("e", "r");
  const target = vocabSize - SPECIAL_TOKENS.length;
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  outer: for (const a of letters) {
    for (const b of letters) {
      if (Object.keys(vocab).length >= target) break outer;
      addMerge(a, b);
    }
  }
  if (Object.keys(vocab).length !== target) throw new Error(`makeByteBpeTokenizer: cannot reach vocab ${vocabSize}`);
  const added = SPECIAL_TOKENS.map((content, i) => ({
    id: target + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    tokenizerJson: {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: byteLevel,
      decoder: byteLevel,
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges,
      },
    },
    tokenizerConfig: {
      bos_token: null,
      eos_token: "<|im_end|>",
      pad_token: "<|endoftext|>",
      clean_up_tokenization_spaces: false,
      chat_template: CHATML_TEMPLATE,
    },
  };
}
