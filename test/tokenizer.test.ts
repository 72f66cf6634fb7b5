import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";
import { SPECIAL_TOKENS } from "../core/prompt/markers.ts";
import { CHAT_TEMPLATE, renderPrompt, toChatMessages, type PromptParts } from "../core/prompt/layout.ts";
import { countPieces, tokenizerConfig, trainBPE } from "../training/tokenizer/train.ts";
import { ByteLevelBPE } from "../training/tokenizer/bpe.ts";
import { loadWorld } from "../training/data/world.ts";
import { Rng } from "../training/data/rng.ts";
import { makeScenario } from "../training/data/sample.ts";

const world = loadWorld(".");
const rng = new Rng(3);
const corpus: string[] = [];
for (let i = 0; corpus.length < 600; i++) {
  const sc = makeScenario(world, rng, "train", String(i));
  if (sc) corpus.push(sc.sample.prompt + sc.sample.completion);
}
const pieces = new Map<string, number>();
for (const t of corpus.slice(0, 500)) countPieces(t, pieces);
const json = trainBPE(pieces, { vocabSize: 1500 });
const ours = new ByteLevelBPE(json);
const hf = new Tokenizer(json, tokenizerConfig());

const VARIED = [
  ...corpus.slice(500, 540),
  "Héllo, wörld! Straße, naïve café — ½ price, 3² = 9, ١٢٣ Arabic digits",
  "中文的句子。日本語のテキスト、한국어 문장",
  "emoji 🙂👍🏽 family 👨‍👩‍👧 flags 🇩🇪 and ⚔️🍺",
  "hwo mcuh is teh horsehsoe??  i dont   no ... LOL!!!",
  "I'm sure you're right, it's what they'd've said; DON'T SHOUT, 'S fine",
  "tabs\tand\nnewlines\r\n and trailing spaces   ",
  "  leading spaces and <|npc|>markers<|end|>\n<|player|>glued<|persona|>",
  "<|end|><|end|>x<|image|><|pad|><|endoftext|>",
  "not a marker: <|nope|> <| end |> <|END|>",
  "numbers 1234567890 0.5 -12 1,000,000 #42 @home $5 ~/path/to/file.ts",
  "[mood:angry] Get out! [emote:cross_arms] [walk_to:gate-lintel]",
  "",
  " ",
  "a",
];

describe("byte-level BPE tokenizer", () => {
  it("keeps every marker whole with ids 0..n-1", () => {
    SPECIAL_TOKENS.forEach((t, id) => {
      expect(ours.encode(t)).toEqual([id]);
      expect(hf.encode(t, { add_special_tokens: false }).ids).toEqual([id]);
    });
    expect(ours.size).toBeLessThanOrEqual(1500);
    expect(json.model.merges.length).toBeGreaterThan(1000);
  });

  it("@huggingface/tokenizers encodes exactly as our encoder and both decode back", () => {
    for (const text of VARIED) {
      const a = ours.encode(text);
      const b = hf.encode(text, { add_special_tokens: false }).ids;
      expect(b, JSON.stringify(text.slice(0, 60))).toEqual(a);
      expect(ours.decode(a)).toBe(text);
      // (its decode refuses an empty id list)
      if (b.length > 0) expect(hf.decode(b, { skip_special_tokens: false, clean_up_tokenization_spaces: false })).toBe(text);
    }
  });

  it("compresses the prompt layout well", () => {
    const text = corpus.slice(500, 600).join("");
    expect(text.length / ours.encode(text).length).toBeGreaterThan(3);
  });

  it("rejects impossible settings and foreign tokenizer files", () => {
    expect(() => trainBPE(pieces, { vocabSize: 100 })).toThrow(/vocabSize must be at least 266/);
    expect(() => new ByteLevelBPE({ ...json, model: { ...json.model, type: "WordPiece" } })).toThrow(/model.type must be "BPE"/);
    expect(() => ours.decode([999999])).toThrow(/outside the vocabulary/);
  });

  it("the chat template in tokenizer_config.json renders the prompt layout", () => {
    const parts: PromptParts = { persona: "You are Old Wen.", facts: ["Wen is 81."], nearby: ["well: stone well, 5 m ahead (north)"], history: [{ role: "player", text: "hi" }, { role: "npc", text: "[mood:calm] Hmm." }], say: "how old are you?" };
    const cfg = tokenizerConfig() as { chat_template: string };
    expect(new Template(cfg.chat_template).render({ messages: toChatMessages(parts), add_generation_prompt: true })).toBe(renderPrompt(parts));
  });
});

describe("the committed tokenizer (assets/tokenizer)", () => {
  const path = "assets/tokenizer/tokenizer.json";
  it("its chat template and the model package's are the prompt layout's (export.py copies it into every model)", () => {
    for (const dir of ["assets/tokenizer", "assets/model"]) {
      expect(JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, "utf8")).chat_template, dir).toBe(CHAT_TEMPLATE);
    }
  });
  it.runIf(existsSync(path))("has ~4096 tokens and matches @huggingface/tokenizers on the eval suites", () => {
    const j = JSON.parse(readFileSync(path, "utf8"));
    const cfg = JSON.parse(readFileSync("assets/tokenizer/tokenizer_config.json", "utf8"));
    const mine = new ByteLevelBPE(j);
    const theirs = new Tokenizer(j, cfg);
    expect(mine.size).toBeGreaterThan(3500);
    expect(mine.size).toBeLessThanOrEqual(4096);
    const texts = [...VARIED];
    for (const suite of ["persona", "trading", "injection"]) {
      for (const line of readFileSync(`evals/${suite}.jsonl`, "utf8").trim().split("\n").slice(0, 20)) texts.push(JSON.parse(line).say);
    }
    for (const t of texts) {
      const ids = mine.encode(t);
      expect(theirs.encode(t, { add_special_tokens: false }).ids).toEqual(ids);
      if (ids.length > 0) expect(theirs.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false })).toBe(t);
    }
  });
});
