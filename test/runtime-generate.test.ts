// Generation on a real ONNX session over tiny random models written by training/make_random_model.py.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBackend } from "../core/runtime/backend-node.ts";
import { LanguageModel, loadModel } from "../core/runtime/index.ts";
import { nodePackageFiles } from "../core/runtime/model/files-node.ts";
import { CHATML_TEMPLATE } from "./helpers/byte-bpe-tokenizer.ts";
import { makeRandomModel, type Reference } from "./runtime-parity-fixtures.ts";

let dir: string;
let model: LanguageModel;
let ref: Reference;
const backend = nodeBackend({ threads: 1 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kith-gen-"));
  // 512 tokens: specials + 256 bytes + letter-pair merges, so decoded text has real words and bytes.
  ref = await makeRandomModel(dir, ["--vocab", "512", "--hidden", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--intermediate", "128", "--seed", "3"], 24);
  model = await loadModel(dir, { backend, files: nodePackageFiles });
});

afterAll(async () => {
  await model?.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Greedy, no EOS: exactly the reference's fixed number of steps.
const greedy = (n: number) => ({ maxNewTokens: n, eosTokenIds: [] as number[] });

describe("generation loop", () => {
  it("greedy tokens equal the PyTorch reference's greedy tokens", async () => {
    for (const p of ref.prompts) {
      const r = await model.generate(p.ids, greedy(p.tokens.length));
      expect(r.tokenIds).toEqual(p.tokens);
      expect(r.finishReason).toBe("length");
      expect(r.promptTokens).toBe(p.ids.length);
    }
  });

  it("batched rows of different lengths get the same tokens as each row alone", async () => {
    const prompts = [
      ...ref.prompts.map((p) => p.ids),
      [7],
      model.tokenizer.encode("the old mill by the river"),
    ];
    const n = [24, 9, 17, 24, 5]; // different lengths: rows finish at different steps
    const alone = [];
    for (let i = 0; i < prompts.length; i++) alone.push((await model.generate(prompts[i], greedy(n[i]))).tokenIds);
    for (const compact of [true, false]) {
      const batch = model.newBatch({ compact });
      const rows = prompts.map((p, i) => model.createRow(p, greedy(n[i])));
      await batch.add(rows);
      await batch.run();
      const got = await Promise.all(rows.map((r) => r.result));
      expect(got.map((r) => r.tokenIds)).toEqual(alone);
      expect(batch.stats.prefills).toBe(1);
      expect(batch.stats.steps).toBe(Math.max(...n) - 1); // one forward per step for all rows
      expect(batch.stats.compactions > 0).toBe(compact);
    }
  });

  it("rows joining a running batch at a step boundary get the same tokens as alone", async () => {
    const a = ref.prompts[0].ids, b = ref.prompts[2].ids, c = [9, 8, 7, 6, 5, 4, 3, 12, 13, 14, 15, 16, 17, 18, 19];
    const alone = await Promise.all([a, b, c].map(async (p) => (await model.generate(p, greedy(12))).tokenIds));
    const batch = model.newBatch();
    const ra = model.createRow(a, greedy(12));
    await batch.add([ra]);
    for (let i = 0; i < 4; i++) await batch.step();
    const rb = model.createRow(b, greedy(12)), rc = model.createRow(c, greedy(12));
    await batch.add([rb, rc]); // b is shorter than a's cache, c is longer: both sides get padded
    for (let i = 0; i < 3; i++) await batch.step();
    await batch.run();
    expect((await ra.result).tokenIds).toEqual(alone[0]);
    expect((await rb.result).tokenIds).toEqual(alone[1]);
    expect((await rc.result).tokenIds).toEqual(alone[2]);
  });

  it("streams chunks whose text adds up to the result text and the decoded ids", async () => {
    const chunks = [];
    const s = model.stream("hello there", { maxNewTokens: 30, eosTokenIds: [] });
    for await (const ch of s) chunks.push(ch);
    const r = await s.result;
    expect(chunks.map((c) => c.token)).toEqual(r.tokenIds);
    expect(chunks.map((c) => c.text).join("")).toBe(r.text);
    expect(r.text).toBe(model.tokenizer.decode(r.tokenIds, { skipSpecialTokens: true }));
    expect(r.timings.ttftMs).toBeGreaterThan(0);
    expect(r.timings.decodeTokensPerSecond).toBeGreaterThan(0);
  });

  it("chat messages go through the package's chat template", async () => {
    const tokenizerJson = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    const tokenizerConfig = { ...JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")), chat_template: CHATML_TEMPLATE };
    const chat = LanguageModel.fromSession(model.session, { dir, tokenizerJson, tokenizerConfig });
    const messages = [{ role: "system", content: "You are Mira." }, { role: "user", content: "hi" }];
    const text = "<|im_start|>system\nYou are Mira.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
    expect(chat.encodePrompt({ messages })).toEqual(chat.tokenizer.encode(text, { addSpecialTokens: false }));
    const r = await chat.generate({ messages }, greedy(6));
    expect(r.tokenIds).toEqual((await chat.generate(chat.tokenizer.encode(text), greedy(6))).tokenIds);
  });

  it("stops at EOS (from the package) with reason stop, EOS not in the text", async () => {
    // Find what the model says greedily, then declare its 5th token the EOS.
    const free = await model.generate(ref.prompts[0].ids, greedy(10));
    const eos = free.tokenIds[4];
    const r = await model.generate(ref.prompts[0].ids, { maxNewTokens: 10, eosTokenIds: [eos] });
    expect(r.finishReason).toBe("stop");
    expect(r.tokenIds).toEqual(free.tokenIds.slice(0, free.tokenIds.indexOf(eos) + 1));
    expect(r.text).toBe(model.tokenizer.decode(r.tokenIds.slice(0, -1), { skipSpecialTokens: true }));
    // stopTokenIds end a row the same way.
    const s = await model.generate(ref.prompts[0].ids, { maxNewTokens: 10, eosTokenIds: [], stopTokenIds: [eos] });
    expect(s.tokenIds).toEqual(r.tokenIds);
    expect(s.finishReason).toBe("stop");
  });

  it("a strong repetition penalty keeps greedy output from repeating prompt or output tokens", async () => {
    const prompt = ref.prompts[0].ids;
    const free = await model.generate(prompt, greedy(24));
    const repeats = (ids: number[]) => ids.length - new Set(ids).size;
    expect(repeats([...prompt, ...free.tokenIds])).toBeGreaterThan(0); // the random model does repeat
    const r = await model.generate(prompt, { ...greedy(24), repetitionPenalty: 1e6 });
    expect(repeats([...prompt, ...r.tokenIds])).toBe(0);
  });

  it("stops at a stop string spanning tokens and leaves it out of the text", async () => {
    const free = await model.generate(ref.prompts[1].ids, greedy(20));
    const text = free.text;
    expect(text.length).toBeGreaterThan(6);
    const stop = text.slice(3, 6);
    const chunks: string[] = [];
    const s = model.stream(ref.prompts[1].ids, { maxNewTokens: 20, eosTokenIds: [], stopStrings: [stop] });
    for await (const c of s) chunks.push(c.text);
    const r = await s.result;
    expect(r.finishReason).toBe("stop");
    expect(r.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(chunks.join("")).toBe(r.text);
  });

  it("seeded sampling is reproducible and differs across seeds", async () => {
    const cfg = { maxNewTokens: 16, eosTokenIds: [], doSample: true, temperature: 1.5, topK: 40, topP: 0.95 };
    const a = await model.generate("the", { ...cfg, seed: 11 });
    const b = await model.generate("the", { ...cfg, seed: 11 });
    const c = await model.generate("the", { ...cfg, seed: 12 });
    expect(a.tokenIds).toEqual(b.tokenIds);
    expect(a.seed).toBe(11);
    expect(c.tokenIds).not.toEqual(a.tokenIds);
    // A sampled row gives the same tokens inside a batch as alone (its own PRNG, its own logits).
    const [x] = await model.generateBatch(["the", "a much longer prompt than the other"], [{ ...cfg, seed: 11 }, { ...cfg, seed: 5 }]);
    expect(x.tokenIds).toEqual(a.tokenIds);
  });

  it("abort stops the row within a step", async () => {
    const ctl = new AbortController();
    const s = model.stream(ref.prompts[0].ids, { maxNewTokens: 200, eosTokenIds: [], signal: ctl.signal });
    let seen = 0;
    for await (const _ of s) {
      if (++seen === 3) ctl.abort();
    }
    const r = await s.result;
    expect(r.finishReason).toBe("abort");
    expect(r.tokenIds.length).toBeLessThanOrEqual(4); // the step in flight may still land
    // Breaking out of the loop aborts too.
    const s2 = model.stream(ref.prompts[0].ids, { maxNewTokens: 200, eosTokenIds: [] });
    for await (const _ of s2) break;
    expect((await s2.result).finishReason).toBe("abort");
    // An already-aborted signal ends before any forward pass.
    const r3 = await model.generate([5, 6], { signal: AbortSignal.abort() });
    expect(r3.finishReason).toBe("abort");
    expect(r3.tokenIds).toEqual([]);
  });

  it("rejects a prompt longer than the context before any work, and clamps max_new_tokens", async () => {
    const P = model.config.maxPositions;
    expect(() => model.stream(new Array(P).fill(5))).toThrow(new RegExp(`the prompt has ${P} tokens but the model's context is ${P} positions`));
    await expect(model.generate(new Array(P + 10).fill(5))).rejects.toThrow(/shorten it to at most/);
    const r = await model.generate(new Array(P - 3).fill(5), { maxNewTokens: 50, eosTokenIds: [] });
    expect(r.tokenIds).toHaveLength(3);
    expect(r.finishReason).toBe("length");
  });

  it("rejects bad input with clear errors", async () => {
    await expect(model.generate([5, 9999])).rejects.toThrow(/prompt token 9999 at index 1 is outside the vocabulary \[0, 512\)/);
    await expect(model.generate([])).rejects.toThrow(/the prompt is empty/);
    await expect(model.generate("x", { temperature: -1 })).rejects.toThrow(/temperature must be a finite number > 0/);
    await expect(model.generate({ messages: [{ role: "user", content: "x" }] })).rejects.toThrow(/has no "chat_template"/);
    await expect(model.generateBatch(["a", "b"], [{}])).rejects.toThrow(/2 prompts but 1 option objects/);
  });
});

describe("generation on a Qwen2-style model (q/k/v bias, untied lm_head, 3 layers)", () => {
  it("greedy tokens equal the PyTorch reference, alone and in a batch of mixed lengths", async () => {
    const qdir = mkdtempSync(join(tmpdir(), "kith-gen-qwen-"));
    try {
      const qref = await makeRandomModel(qdir, ["--arch", "qwen2", "--untied", "--vocab", "400", "--hidden", "96", "--layers", "3", "--heads", "6", "--kv-heads", "2", "--intermediate", "160", "--seed", "9"], 16);
      const qm = await loadModel(qdir, { backend, files: nodePackageFiles });
      try {
        for (const p of qref.prompts) expect((await qm.generate(p.ids, greedy(16))).tokenIds).toEqual(p.tokens);
        const batched = await qm.generateBatch(qref.prompts.map((p) => p.ids), greedy(16));
        expect(batched.map((r) => r.tokenIds)).toEqual(qref.prompts.map((p) => p.tokens));
      } finally {
        await qm.release();
      }
    } finally {
      rmSync(qdir, { recursive: true, force: true });
    }
  });
});
