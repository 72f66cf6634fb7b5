import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TextTokenizer } from "../core/runtime/tokenizer.ts";
import { IncrementalDecoder } from "../core/runtime/generate/text-stream.ts";
import { makeByteBpeTokenizer, SPECIAL_TOKENS } from "./helpers/byte-bpe-tokenizer.ts";

const fixture = makeByteBpeTokenizer(512);
const tok = TextTokenizer.fromPackage({ ...fixture, vocabSize: 512, source: "fixture" });

describe("TextTokenizer", () => {
  it("encodes with merges and decodes back", () => {
    const ids = tok.encode("hello the world");
    // "he" and "ll" are merges, so fewer ids than bytes.
    expect(ids.length).toBeLessThan("hello the world".length);
    expect(tok.decode(ids)).toBe("hello the world");
  });

  it("round-trips arbitrary unicode text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (s) => {
        expect(tok.decode(tok.encode(s))).toBe(s);
      }),
      { numRuns: 200 },
    );
  });

  it("knows its special tokens and can skip them when decoding", () => {
    const end = tok.tokenId("<|im_end|>")!;
    expect(end).toBe(512 - SPECIAL_TOKENS.length + 2);
    expect(tok.specialIds.has(end)).toBe(true);
    expect(tok.eosToken).toBe("<|im_end|>");
    const ids = tok.encode("<|im_start|>hi<|im_end|>");
    expect(ids[0]).toBe(tok.tokenId("<|im_start|>"));
    expect(ids[ids.length - 1]).toBe(end);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("hi");
    expect(tok.decode(ids)).toBe("<|im_start|>hi<|im_end|>");
  });

  it("renders the chat template", () => {
    const text = tok.applyChatTemplate([
      { role: "system", content: "You are Mira." },
      { role: "user", content: "Hi!" },
    ]);
    expect(text).toBe("<|im_start|>system\nYou are Mira.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n");
    const noPrompt = tok.applyChatTemplate([{ role: "user", content: "x" }], { addGenerationPrompt: false });
    expect(noPrompt).toBe("<|im_start|>user\nx<|im_end|>\n");
  });

  it("renders named templates and reports unknown names with the valid ones", () => {
    const named = TextTokenizer.fromPackage({
      tokenizerJson: fixture.tokenizerJson,
      tokenizerConfig: {
        ...fixture.tokenizerConfig,
        chat_template: [
          { name: "default", template: "{{ messages[0]['content'] }}" },
          { name: "shout", template: "{{ messages[0]['content'] | upper }}" },
        ],
      },
    });
    expect(named.applyChatTemplate([{ role: "user", content: "hey" }], { template: "shout" })).toBe("HEY");
    expect(() => named.applyChatTemplate([{ role: "user", content: "hey" }], { template: "nope" })).toThrow(
      /chat template "nope" not found. Should be one of: default, shout/,
    );
  });

  it("surfaces raise_exception from a template as a clear error", () => {
    const strict = TextTokenizer.fromPackage({
      tokenizerJson: fixture.tokenizerJson,
      tokenizerConfig: { chat_template: "{% if messages[0]['role'] != 'user' %}{{ raise_exception('first message must be from the user') }}{% endif %}ok" },
      source: "pkg",
    });
    expect(() => strict.applyChatTemplate([{ role: "assistant", content: "x" }])).toThrow(/pkg\/tokenizer_config.json.*first message must be from the user/);
  });

  it("rejects a template that does not parse, naming the file", () => {
    expect(() =>
      TextTokenizer.fromPackage({ tokenizerJson: fixture.tokenizerJson, tokenizerConfig: { chat_template: "{% for x in %}" }, source: "pkg" }),
    ).toThrow(/pkg\/tokenizer_config.json: chat_template: cannot parse/);
  });

  it("errors when the package has no chat template", () => {
    const t = TextTokenizer.fromPackage({ tokenizerJson: fixture.tokenizerJson, source: "bare" });
    expect(() => t.applyChatTemplate([{ role: "user", content: "x" }])).toThrow(/bare\/tokenizer_config.json: the package has no "chat_template"/);
  });

  it("rejects a tokenizer whose vocabulary exceeds the model's vocab_size", () => {
    expect(() => TextTokenizer.fromPackage({ ...fixture, vocabSize: 300, source: "pkg" })).toThrow(
      /pkg\/tokenizer.json: the tokenizer has ids up to 511 but the model's vocab_size is 300/,
    );
    // A model vocabulary larger than the tokenizer's (padded embedding rows) is fine.
    expect(() => TextTokenizer.fromPackage({ ...fixture, vocabSize: 576 })).not.toThrow();
  });

  it("rejects malformed tokenizer files with the file name", () => {
    expect(() => TextTokenizer.fromPackage({ tokenizerJson: [], source: "pkg" })).toThrow(/pkg\/tokenizer.json: expected a JSON object/);
    expect(() => TextTokenizer.fromPackage({ tokenizerJson: { version: "1.0" }, source: "pkg" })).toThrow(
      /pkg\/tokenizer.json: cannot build the tokenizer/,
    );
  });

  it("rejects out-of-range ids when decoding", () => {
    expect(() => tok.decode([5, 9999])).toThrow(/cannot decode id 9999; valid ids are 0..511/);
    expect(tok.decode([])).toBe("");
  });
});

describe("IncrementalDecoder (UTF-8 safe streaming)", () => {
  const decode = (ids: number[]) => tok.decode(ids);

  it("never emits half a multi-byte character", () => {
    const text = "café 🙂 naïve — ok";
    const ids = tok.encode(text);
    const dec = new IncrementalDecoder(decode);
    const chunks: string[] = [];
    for (const id of ids) chunks.push(dec.push(id));
    chunks.push(dec.flush());
    for (const c of chunks) expect(c).not.toContain("\uFFFD");
    expect(chunks.join("")).toBe(text);
    // The emoji is 4 bytes = 4 byte tokens: three of them must have produced nothing.
    expect(chunks.filter((c) => c === "").length).toBeGreaterThanOrEqual(3 + 1 + 1 + 2);
  });

  it("streams any text back exactly (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (s) => {
        const dec = new IncrementalDecoder(decode);
        // A replacement character the text itself holds may stream out; none may be invented.
        const own = s.includes("\uFFFD");
        let out = "";
        for (const id of tok.encode(s)) {
          const c = dec.push(id);
          if (!own) expect(c).not.toContain("\uFFFD");
          out += c;
        }
        out += dec.flush();
        expect(out).toBe(s);
      }),
      { numRuns: 200 },
    );
  });

  it("streams a replacement character that the text itself holds", () => {
    const text = "a\uFFFD b";
    const dec = new IncrementalDecoder(decode);
    let out = "";
    for (const id of tok.encode(text)) out += dec.push(id);
    expect(out + dec.flush()).toBe(text);
  });

  it("flushes a truly broken tail as a replacement character", () => {
    const ids = tok.encode("é"); // two byte tokens
    const dec = new IncrementalDecoder(decode);
    expect(dec.push(ids[0])).toBe("");
    expect(dec.flush()).toBe("\uFFFD");
  });
});
